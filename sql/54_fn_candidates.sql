-- Waitlist candidates for a gap: hard filters first, then seed 002's weighted score.
--
-- Hard filters: the entry is active; a service it asked for (or one of the same category) fits the
-- gap; the provider is not excluded; the offered slot's local day and date are inside the entry's
-- preferences and its time is inside the window (or within an hour of it); the customer's lead
-- time is respected; a channel with consent, and no opt-out; the customer has nothing booked then;
-- frequency caps and the fatigue rule are not hit; they were not offered this gap already.
--
-- Placement (slotoptim_private.place_slot): each entry's slot starts at the earliest instant on the
-- organisation's slot grid (provider's local clock) that respects now + the entry's lead time, its
-- time window and the fit of the service with the customer's buffer; among those, one that leaves
-- no unusable fragment (a leftover shorter than the shortest service) is preferred, which in
-- practice is a slot flush with the appointment before or after.
--
-- Score (0-100): weighted mean of time window (100 inside, 50 within an hour), provider (100
-- preferred or any, 40 another provider of the service), service (100 asked for, 60 same
-- category), travel (linear from 100 at 0 minutes to 0 at the entry's maximum), lead time (100 when
-- the slot is at least twice the notice away, 50 at least once), responsiveness (acceptance rate,
-- 70 for new entries) and wait fairness (days waiting / longest wait). Weights are per organisation.

-- The first instant at or after p_at on a grid of p_grid_minutes counted from local midnight in
-- p_timezone (the grid divides a day, so date_bin's origin at a midnight aligns it to every
-- midnight). No SET clause, and p_at used once: the planner inlines it into the per-entry
-- placement, where a call per row would cost more than the rest of the ranking.
create or replace function slotoptim_private.grid_ceil(p_at timestamptz, p_grid_minutes integer, p_timezone text)
returns timestamptz
language sql
immutable
parallel safe
return pg_catalog.date_bin(pg_catalog.make_interval(mins => p_grid_minutes),
                           (p_at at time zone p_timezone) + pg_catalog.make_interval(mins => p_grid_minutes)
                           - interval '1 microsecond',
                           timestamp '2000-01-01')
       at time zone p_timezone;

-- Where in a gap one entry's slot goes. Inputs: the gap [p_gap_start, p_gap_end), the instant p_at,
-- the first usable grid instant p_first_usable (grid_ceil of greatest(gap start, now)), the
-- shortest need of the provider's services p_shortest (minutes + buffer), the entry's lead time,
-- its window (customer's local time, may be null), the service's minutes and the whole need
-- p_need (minutes + the customer's buffer), the customer's and the provider's zones and the grid.
-- Each local day of the customer in the gap is tried, inside the window first and then within an
-- hour of it; on each, the feasible starts form one stretch of the grid [lo, hi]. The best start is
-- one of four points: lo, the first start leaving a usable piece before it, the first start leaving
-- nothing usable after it, or both; the one with the fewest unusable fragments wins, then the
-- earliest. A fragment is a leftover piece whose usable (on-grid) length is above 0 but below the
-- shortest need. Returns no row when nothing fits.
create or replace function slotoptim_private.place_slot(
  p_gap_start timestamptz,
  p_gap_end timestamptz,
  p_at timestamptz,
  p_first_usable timestamptz,
  p_shortest integer,
  p_lead_minutes integer,
  p_window_start time,
  p_window_end time,
  p_minutes integer,
  p_need integer,
  p_customer_tz text,
  p_provider_tz text,
  p_grid integer
)
returns table (slot_start timestamptz, in_window boolean, fragments integer)
language sql
stable
parallel safe
begin atomic
  with bounds as (
    select d.day, tol.slack,
           slotoptim_private.grid_ceil(
             greatest(p_gap_start, p_at + make_interval(mins => p_lead_minutes),
                      d.day::timestamp at time zone p_customer_tz,
                      case when p_window_start is not null
                           then (d.day + p_window_start - tol.slack) at time zone p_customer_tz end),
             p_grid, p_provider_tz) as lo,
           least(p_gap_end - make_interval(mins => p_need),
                 case when p_window_end is not null
                      then (d.day + p_window_end + tol.slack) at time zone p_customer_tz
                           - make_interval(mins => p_minutes) end) as hi,
           (d.day + 1)::timestamp at time zone p_customer_tz as day_end
      from (select (greatest(p_gap_start, p_at) at time zone p_customer_tz)::date as first_day,
                   (p_gap_end at time zone p_customer_tz)::date as last_day) as span
      cross join lateral generate_series(0, span.last_day - span.first_day) as n(offset_days)
      cross join lateral (select span.first_day + n.offset_days as day) as d
      cross join (values (interval '0'), (interval '1 hour')) as tol(slack)
     where p_window_start is not null or tol.slack = interval '0'
  ),
  points as (
    select b.slack, pt.s
      from bounds as b
      cross join lateral (
        select slotoptim_private.grid_ceil(p_first_usable + make_interval(mins => p_shortest), p_grid, p_provider_tz)
                 as usable_before,
               -- The first start whose end (on the grid) reaches the end of the gap: nothing usable after.
               slotoptim_private.grid_ceil(
                 slotoptim_private.grid_ceil(p_gap_end, p_grid, p_provider_tz) - make_interval(mins => p_grid)
                 - make_interval(mins => p_need) + interval '1 microsecond', p_grid, p_provider_tz) as flush_after
      ) as k
      cross join lateral (
        values (b.lo), (greatest(b.lo, k.usable_before)), (greatest(b.lo, k.flush_after)),
               (greatest(b.lo, k.usable_before, k.flush_after))
      ) as pt(s)
     where pt.s <= b.hi
       and pt.s < b.day_end
  )
  select p.s,
         p.slack = interval '0',
         ((p.s > p_first_usable and p.s < p_first_usable + make_interval(mins => p_shortest))::integer
          + (slotoptim_private.grid_ceil(p.s + make_interval(mins => p_need), p_grid, p_provider_tz) < p_gap_end
             and slotoptim_private.grid_ceil(p.s + make_interval(mins => p_need), p_grid, p_provider_tz)
                 > p_gap_end - make_interval(mins => p_shortest))::integer)
    from points as p
   order by p.slack, 3, p.s
   limit 1;
end;

-- rank_candidates gained p_k (with a default): the two-argument form is replaced, not overloaded.
drop function if exists slotoptim_private.rank_candidates(bigint, timestamptz);

-- The scoring of rank_candidates, over the active entries of p_entry_ids (null: all of them): one
-- row per customer (their best entry), in no particular order, with the entry's added_at for the
-- final ordering. Scores do not depend on which entries are scored together (the longest wait is
-- over every active entry of the organisation), so scoring a subset gives each entry the score the
-- full ranking gives it; rank_candidates relies on that to score entries in batches.
create or replace function slotoptim_private.score_entries(p_gap_id bigint, p_at timestamptz, p_entry_ids bigint[])
returns table (
  waitlist_entry_id bigint,
  customer_id bigint,
  service_id bigint,
  slot tstzrange,
  channel text,
  channel_is_email_only boolean,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  last_offered_at timestamptz,
  added_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  with gap as materialized (
    select g.id, g.org_id, g.provider_id, g.during, lower(g.during) as starts, upper(g.during) as ends,
           o.timezone as org_tz, p.timezone as provider_tz, st.slot_grid_minutes as grid, st.score_threshold, st.weight_time, st.weight_provider, st.weight_service,
           st.weight_travel, st.weight_lead, st.weight_response, st.weight_fairness, st.fatigue_ignored_limit,
           st.max_offers_per_day, st.max_offers_per_week,
           st.weight_earlier, st.moveup_prefer,  -- move-up hook (issue 12)
           -- Most customers live in the organisation's zone: their local day is computed once here.
           extract(isodow from greatest(lower(g.during), p_at) at time zone o.timezone)::smallint as org_first_dow,
           extract(isodow from upper(g.during) at time zone o.timezone)::smallint as org_last_dow,
           (greatest(lower(g.during), p_at) at time zone o.timezone)::date as org_first_date,
           (upper(g.during) at time zone o.timezone)::date as org_last_date,
           -- Only rules about the customer make a customer's buffer differ from the default one.
           exists (select 1 from slotoptim_private.buffer_rule as r
                    where r.org_id = g.org_id and r.active and r.when_new_customer is not null) as customer_rules,
           -- Time before the first grid instant after now is of no use to anyone.
           slotoptim_private.grid_ceil(greatest(lower(g.during), p_at), st.slot_grid_minutes, p.timezone)
             as first_usable
      from slotoptim_private.gap as g
      join slotoptim_private.organisation as o on o.id = g.org_id
      join slotoptim_private.provider as p on p.id = g.provider_id
      join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
     where g.id = p_gap_id
       and g.status in ('open', 'offering')
       and upper(g.during) > p_at
  ),
  fitting as materialized (
    select s.id, s.category, s.minutes, s.price, n.need_minutes
      from gap
      cross join lateral slotoptim_private.service_needs(array[gap.provider_id]) as n
      join slotoptim_private.service as s on s.org_id = gap.org_id and s.key = n.service_key
     where n.need_minutes * 60 <= extract(epoch from gap.ends - greatest(gap.starts, p_at))
  ),
  shortest as materialized (
    -- A leftover shorter than this fits no service: placements avoid leaving one.
    select min(f.need_minutes)::integer as need_minutes from fitting as f
  ),
  compatible as materialized (
    -- Services of the categories that fit: entries asking for any of them may qualify.
    select array_agg(s.id) as ids
      from gap
      join slotoptim_private.service as s on s.org_id = gap.org_id
     where s.category in (select f.category from fitting as f)
  ),
  longest as materialized (
    -- The oldest active entry of the organisation (one probe of waitlist_entry_active_added_idx).
    select greatest(extract(epoch from p_at - (
             select min(w.added_at) from slotoptim_private.waitlist_entry as w
              where w.org_id = (select gap.org_id from gap) and w.status = 'active')), 1) as seconds
  ),
  entry as (
    -- Cheap column tests first, on the local date where the gap starts (the exact slot is
    -- checked again below), so the per-entry work that follows sees few rows.
    -- Consent alone decides the channel: the customer table's checks make consent to SMS or
    -- WhatsApp imply a phone and consent to email an address, so phone and email are not read
    -- here (analysts, who run this function with their own rights, may not read them).
    select w.*, c.timezone as customer_tz_raw, c.opted_out_at,
           c.consent_sms, c.consent_whatsapp, c.consent_email,
           coalesce(c.timezone, gap.org_tz) as tz
      from gap
      cross join compatible
      -- Every active entry asking for a compatible service, or only those of p_entry_ids (by
      -- their ids: a scan of every entry per page made the bounded ranking slower than the full).
      cross join lateral (
        select w0.*
          from slotoptim_private.waitlist_entry as w0
         where p_entry_ids is null
           and w0.org_id = gap.org_id
           and w0.status = 'active'
           and w0.service_ids && compatible.ids
        union all
        select w1.*
          from slotoptim_private.waitlist_entry as w1
         where p_entry_ids is not null
           and w1.id = any (p_entry_ids)
           and w1.org_id = gap.org_id
           and w1.status = 'active'
           and w1.service_ids && compatible.ids
      ) as w
      join slotoptim_private.customer as c on c.id = w.customer_id
     where c.opted_out_at is null
       and not (gap.provider_id = any (w.excluded_provider_ids))
       and w.consecutive_ignored < gap.fatigue_ignored_limit
       and gap.ends - p_at > make_interval(mins => w.lead_time_minutes)
       and (w.preferred_days is null
            or case when c.timezone is null
                    then gap.org_first_dow = any (w.preferred_days) or gap.org_last_dow = any (w.preferred_days)
                    else extract(isodow from greatest(gap.starts, p_at) at time zone c.timezone)::smallint
                           = any (w.preferred_days)
                      or extract(isodow from gap.ends at time zone c.timezone)::smallint = any (w.preferred_days)
               end)
       and (w.latest_date is null
            or case when c.timezone is null then gap.org_first_date
                    else (greatest(gap.starts, p_at) at time zone c.timezone)::date end <= w.latest_date)
       and (w.earliest_date is null
            or case when c.timezone is null then gap.org_last_date
                    else (gap.ends at time zone c.timezone)::date end >= w.earliest_date)
       and (c.consent_sms or c.consent_whatsapp or c.consent_email)
  ),
  choice as (
    -- The best service for each entry: one it asked for first, then the dearest.
    select distinct on (e.id)
           e.*, f.id as chosen_service_id, f.minutes as chosen_minutes, f.need_minutes,
           (f.id = any (e.service_ids)) as exact
      from entry as e
      join fitting as f
        on f.id = any (e.service_ids)
        or f.category in (select s.category from slotoptim_private.service as s where s.id = any (e.service_ids))
     order by e.id, (f.id = any (e.service_ids)) desc, f.price desc, f.id
  ),
  needs as (
    -- What the placement needs of each entry. The customer's own buffer sizes the need (a new
    -- customer may need more than the default); it is checked again at the chosen start.
    select ch.*,
           case when gap.customer_rules
                then ch.chosen_minutes + slotoptim_private.buffer_after(
                       ch.chosen_service_id, gap.provider_id, ch.customer_id, greatest(gap.starts, p_at))
                else ch.need_minutes end as place_need
      from choice as ch
      cross join gap
  ),
  placements as materialized (
    -- Where in the gap (slotoptim_private.place_slot), once per distinct set of inputs: entries
    -- share service, lead time, window and zone far more often than not.
    select k.*, pl.slot_start
      from (select distinct n.chosen_minutes, n.place_need, n.lead_time_minutes, n.window_start is null as no_window,
                            n.window_start, n.window_end, n.tz
              from needs as n) as k
      cross join gap
      cross join shortest
      cross join lateral slotoptim_private.place_slot(
        gap.starts, gap.ends, p_at, gap.first_usable, shortest.need_minutes, k.lead_time_minutes,
        k.window_start, k.window_end, k.chosen_minutes, k.place_need, k.tz, gap.provider_tz, gap.grid) as pl
  ),
  placed as (
    select n.*, pl.slot_start
      from needs as n
      join placements as pl
        on pl.chosen_minutes = n.chosen_minutes
       and pl.place_need = n.place_need
       and pl.lead_time_minutes = n.lead_time_minutes
       and pl.tz = n.tz
       and pl.no_window = (n.window_start is null)
       -- Equal windows, or both absent (coalesce keeps the join hashable).
       and coalesce(pl.window_start, time '00:00') = coalesce(n.window_start, time '00:00')
       and coalesce(pl.window_end, time '00:00') = coalesce(n.window_end, time '00:00')
  ),
  timed as (
    -- The customer's own buffer decides the fit (a new customer may need more than the default).
    select pl.*,
           pl.slot_start + make_interval(mins => pl.chosen_minutes) as slot_end,
           (pl.slot_start at time zone pl.tz) as local_start,
           ((pl.slot_start + make_interval(mins => pl.chosen_minutes)) at time zone pl.tz) as local_end
      from placed as pl
      cross join gap
     where pl.slot_start
           + make_interval(mins => pl.chosen_minutes
                           + case when gap.customer_rules
                                  then slotoptim_private.buffer_after(
                                         pl.chosen_service_id, gap.provider_id, pl.customer_id, pl.slot_start)
                                  else pl.need_minutes - pl.chosen_minutes end)
           <= gap.ends
  ),
  scored as (
    select t.*,
           case
             when t.window_start is null then 100
             when t.local_start::time >= t.window_start
              and t.local_end <= t.local_start::date + t.window_end then 100
             -- On the timestamp, not the time of day: 00:30 - 1 hour is not 23:30.
             when t.local_start >= t.local_start::date + t.window_start - interval '1 hour'
              and t.local_end <= t.local_start::date + t.window_end + interval '1 hour' then 50
             else 0
           end as t_points,
           case when t.provider_ids is null or gap.provider_id = any (t.provider_ids) then 100 else 40 end as p_points,
           case when t.exact then 100 else 60 end as v_points,
           case
             when t.travel_minutes is null then 100
             else greatest(0, round(100 * (1 - t.travel_minutes::numeric / greatest(coalesce(t.max_travel_minutes, 60), 1))))
           end::integer as g_points,
           case
             when t.slot_start - p_at >= make_interval(mins => 2 * t.lead_time_minutes) then 100
             when t.slot_start - p_at >= make_interval(mins => t.lead_time_minutes) then 50
             else 0
           end as l_points,
           case when t.offers_received = 0 then 70
                else round(100.0 * t.offers_accepted / t.offers_received)::integer end as h_points,
           round(100 * extract(epoch from p_at - t.added_at) / longest.seconds)::integer as f_points,
           -- Move-up hook (issue 12): how much earlier than the held appointment; null for other entries.
           case when t.moveup_appointment_id is not null
                then slotoptim_private.moveup_points(t.moveup_appointment_id, t.slot_start, gap.moveup_prefer) end
             as e_points,
           case
             when t.consent_sms then 'sms'
             when t.consent_whatsapp then 'whatsapp'
             else 'email'
           end as best_channel
      from timed as t
      cross join gap
      cross join longest
     where (t.preferred_days is null or extract(isodow from t.local_start)::smallint = any (t.preferred_days))
       and (t.earliest_date is null or t.local_start::date >= t.earliest_date)
       and (t.latest_date is null or t.local_start::date <= t.latest_date)
       and t.slot_start - p_at >= make_interval(mins => t.lead_time_minutes)
  )
  select distinct on (s.customer_id)
         s.id, s.customer_id, s.chosen_service_id,
         tstzrange(s.slot_start, s.slot_end, '[)'),
         s.best_channel,
         s.best_channel = 'email',
         s.tier,
         round(ws.weighted::numeric / ws.weight_sum, 2),
         s.t_points, s.p_points, s.v_points, s.g_points, s.l_points, s.h_points, ws.fairness,
         recent.last_at,
         s.added_at
    from scored as s
    cross join gap
    -- The weighted sum once per row (it is both the score and the sort key).
    cross join lateral (
      select least(greatest(s.f_points, 0), 100) as fairness,
             gap.weight_time * s.t_points + gap.weight_provider * s.p_points + gap.weight_service * s.v_points
             + gap.weight_travel * s.g_points + gap.weight_lead * s.l_points + gap.weight_response * s.h_points
             + gap.weight_fairness * least(greatest(s.f_points, 0), 100)
             + gap.weight_earlier * coalesce(s.e_points, 0) as weighted,  -- move-up hook (issue 12)
             -- A move-up candidate's mean also weighs how much earlier the slot is (issue 12).
             greatest(gap.weight_time + gap.weight_provider + gap.weight_service + gap.weight_travel
                      + gap.weight_lead + gap.weight_response + gap.weight_fairness
                      + case when s.e_points is null then 0 else gap.weight_earlier end, 1) as weight_sum
    ) as ws
    left join lateral (
      select max(o.created_at) as last_at,
             count(*) filter (where o.created_at > p_at - interval '1 day') as today,
             count(*) filter (where o.created_at > p_at - interval '7 days') as week
        from slotoptim_private.offer as o
       where o.customer_id = s.customer_id
         and o.created_at > p_at - interval '7 days'
    ) as recent on true
   where s.t_points > 0
     and coalesce(recent.today, 0) < gap.max_offers_per_day
     and coalesce(recent.week, 0) < gap.max_offers_per_week
     and not exists (
       select 1 from slotoptim_private.offer as o2 where o2.gap_id = gap.id and o2.customer_id = s.customer_id)
     and not exists (
       select 1 from slotoptim_private.appointment as a
        where a.customer_id = s.customer_id
          and a.status in ('booked', 'confirmed', 'arrived', 'completed')
          and a.period && tstzrange(s.slot_start, s.slot_end, '[)'))
     -- Move-up hook (issue 12): the chain guards (earlier only, same service, cool-down, no cycle).
     and (s.moveup_appointment_id is null
          or slotoptim_private.moveup_allowed(s.id, s.chosen_service_id, gap.id, s.slot_start, p_at))
   order by s.customer_id, ws.weighted desc, s.id;
$$;

comment on function slotoptim_private.score_entries(bigint, timestamptz, bigint[]) is
  'The scored candidates of a gap among the given active entries (null: all): one row per customer, unordered.';

-- score_entries for the bounded ranking's chunks (a few dozen entries by id) and for a small
-- waitlist scored at once (ids null, at most 2,000 active entries), planned once per session:
-- planning score_entries' query cost more than running it (about 10 ms against 2 ms for a chunk;
-- 2.5 of the 4 ms of a 1k-entry ranking), and the plan does not depend on how many entries the
-- organisation has (its id comes from the gap at run time). The full ranking (rank_candidates with
-- k null, any size) keeps custom plans.
create or replace function slotoptim_private.score_entries_by_id(p_gap_id bigint, p_at timestamptz,
                                                                 p_entry_ids bigint[])
returns table (
  waitlist_entry_id bigint,
  customer_id bigint,
  service_id bigint,
  slot tstzrange,
  channel text,
  channel_is_email_only boolean,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  last_offered_at timestamptz,
  added_at timestamptz
)
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  select * from slotoptim_private.score_entries(p_gap_id, p_at, p_entry_ids);
$$;

comment on function slotoptim_private.score_entries_by_id(bigint, timestamptz, bigint[]) is
  'score_entries for the given entries (null: all, for a small waitlist), with a plan kept for the session.';

-- The ranked candidates of a gap: every one (p_k null, one row per customer in no particular order)
-- or the best p_k in rank order (score, tier, last offered, added, entry), which equal the first p_k
-- of the full ranking.
--
-- Bounded path: only entries wanting a compatible service are walked, through waitlist_want (their
-- wanted services with the static score parts: travel and responsiveness points weighed into
-- static_points, tier, added_at, move-up), in two index orders per service: best static_points
-- first and longest wait first. Each round reads a longer prefix of both (fourfold); an entry in
-- neither prefix scores at most the bound made of the first's last static_points, the second's
-- last wait and full marks for the parts that depend on the gap and slot (time, lead, provider,
-- service, and "earlier" when a move-up enrolment wants these services). New entries are checked
-- on the index alone, then on the filters needing no slot with their exact bound (provider and
-- service known), and scored in chunks in order of (bound, tier, added_at): once p_k candidates are
-- known, an entry can still enter only with a higher bound than the k-th score, or an equal one and
-- a better tier/added_at when the k-th was never offered anything. The walk stops when the bound of
-- the unseen entries is below the k-th score. The rest of the candidates' filters apply in
-- score_entries, which sees the top p_k found so far again with each chunk, together with every
-- entry of the chunk's customers (each customer stands by their best entry).
create or replace function slotoptim_private.rank_candidates(p_gap_id bigint, p_at timestamptz, p_k integer default null)
returns table (
  waitlist_entry_id bigint,
  customer_id bigint,
  service_id bigint,
  slot tstzrange,
  channel text,
  channel_is_email_only boolean,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  last_offered_at timestamptz
)
language plpgsql
stable
set search_path = ''
-- Planned with the actual values each time: a generic plan guessed 2 entries wanting the gap's
-- services where there were 20,000, and looked every customer up one by one.
set plan_cache_mode = force_custom_plan
as $$
declare
  v_gap record;
  v_fitting bigint[];
  v_compatible bigint[];
  v_longest numeric;
  v_page_size integer;
  v_page bigint[];
  v_small integer;
  v_any_moveup boolean;
  v_full integer;
  v_prev_size integer := 0;
  v_considered bigint[] := '{}';
  v_new bigint[];
  v_by_static bigint[];
  v_static_rows integer;
  v_static_last integer;
  v_by_age bigint[];
  v_age_rows integer;
  v_age_last timestamptz;
  v_exhausted boolean;
  v_fairness integer;
  v_threshold numeric;
  v_pool bigint[];
  v_pool_customers bigint[];
  v_pool_ub numeric[];
  v_pool_tier integer[];
  v_pool_added timestamptz[];
  v_i integer;
  v_chunk integer;
  v_rows jsonb;
  v_top bigint[] := '{}';
  v_kth numeric;
  v_kth_tier integer;
  v_kth_added timestamptz;
  v_kth_id bigint;
  v_kth_last timestamptz;
  v_found integer;
begin
  if p_k is null then
    return query
      select r.waitlist_entry_id, r.customer_id, r.service_id, r.slot, r.channel, r.channel_is_email_only, r.tier,
             r.score, r.time_points, r.provider_points, r.service_points, r.travel_points, r.lead_points,
             r.response_points, r.fairness_points, r.last_offered_at
        from slotoptim_private.score_entries(p_gap_id, p_at, null) as r;
    return;
  end if;
  if p_k <= 0 then
    return;
  end if;

  -- Pages a few times the wave: most waves end after the first.
  -- (slotoptim.rank_page_size, a test knob, makes pages small enough to exercise the bound.)
  v_page_size := coalesce(nullif(pg_catalog.current_setting('slotoptim.rank_page_size', true), '')::integer,
                          greatest(4 * p_k, 256));
  -- A small waitlist (a page, or up to 2,000 entries) is scored at once: with the walk over
  -- waitlist_want the two cost about the same there (1k entries, all wanting the gap's service:
  -- 7.4 ms at once, 6.0 ms walked), and scoring at once takes one call. It is counted first,
  -- before the walk's look-ups (gap, fitting and compatible services, longest wait): score_entries
  -- makes its own, and an unknown or closed gap, or one no service fits, gives no row there either.
  -- The scoring runs on score_entries_by_id's generic plan: this function's force_custom_plan
  -- reaches the calls it makes, and planning score_entries afresh each time took about 2.5 ms of a
  -- 1k-entry ranking's 4 (the organisation comes from the gap at run time in either plan).
  v_small := case when coalesce(pg_catalog.current_setting('slotoptim.rank_page_size', true), '') = ''
                  then greatest(v_page_size, 2000) else v_page_size end;
  if (select count(*) from (select from slotoptim_private.waitlist_entry as w
                             where w.org_id = (select g.org_id from slotoptim_private.gap as g where g.id = p_gap_id)
                               and w.status = 'active' limit v_small + 1) as x)
     <= v_small then
    return query
      select r.waitlist_entry_id, r.customer_id, r.service_id, r.slot, r.channel, r.channel_is_email_only, r.tier,
             r.score, r.time_points, r.provider_points, r.service_points, r.travel_points, r.lead_points,
             r.response_points, r.fairness_points, r.last_offered_at
        from slotoptim_private.score_entries_by_id(p_gap_id, p_at, null) as r
       order by r.score desc, slotoptim_private.tier_rank(r.tier), r.last_offered_at asc nulls first, r.added_at,
                r.waitlist_entry_id
       limit p_k;
    return;
  end if;

  select g.org_id, g.provider_id, lower(g.during) as starts, upper(g.during) as ends, o.timezone as org_tz,
         extract(isodow from greatest(lower(g.during), p_at) at time zone o.timezone)::smallint as org_first_dow,
         extract(isodow from upper(g.during) at time zone o.timezone)::smallint as org_last_dow,
         (greatest(lower(g.during), p_at) at time zone o.timezone)::date as org_first_date,
         (upper(g.during) at time zone o.timezone)::date as org_last_date,
         st.weight_time, st.weight_provider, st.weight_service, st.weight_travel, st.weight_lead,
         st.weight_response, st.weight_fairness, st.fatigue_ignored_limit,
         st.weight_time + st.weight_provider + st.weight_service + st.weight_travel + st.weight_lead
           + st.weight_response + st.weight_fairness as weight_sum,
         st.weight_earlier  -- move-up hook (issue 12)
    into v_gap
    from slotoptim_private.gap as g
    join slotoptim_private.organisation as o on o.id = g.org_id
    join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
   where g.id = p_gap_id
     and g.status in ('open', 'offering')
     and upper(g.during) > p_at;
  if not found then
    return;
  end if;

  -- The same fitting services, compatible services and longest wait as score_entries.
  select coalesce(array_agg(s.id), '{}') into v_fitting
    from slotoptim_private.service_needs(array[v_gap.provider_id]) as n
    join slotoptim_private.service as s on s.org_id = v_gap.org_id and s.key = n.service_key
   where n.need_minutes * 60 <= extract(epoch from v_gap.ends - greatest(v_gap.starts, p_at));
  select coalesce(array_agg(s.id), '{}') into v_compatible
    from slotoptim_private.service as s
   where s.org_id = v_gap.org_id
     and s.category in (select f.category from slotoptim_private.service as f where f.id = any (v_fitting));
  if cardinality(v_compatible) = 0 then
    return;
  end if;
  select greatest(extract(epoch from p_at - min(w.added_at)), 1) into v_longest
    from slotoptim_private.waitlist_entry as w
   where w.org_id = v_gap.org_id and w.status = 'active';

  -- Does any entry wanting these services hold a move-up enrolment? (Their bound also weighs "earlier".)
  v_any_moveup := exists (select 1 from slotoptim_private.waitlist_want as ww
                           where ww.org_id = v_gap.org_id and ww.service_id = any (v_compatible) and ww.moveup);
  -- Full marks for the parts that depend on the gap or the slot (time, provider, service, lead).
  v_full := (v_gap.weight_time + v_gap.weight_provider + v_gap.weight_service + v_gap.weight_lead) * 100;
  loop
    -- The first v_page_size rows of two orders of waitlist_want (one index-only scan per compatible
    -- service, merged): best static parts (travel, responsiveness) first, and longest wait first. An
    -- entry in neither prefix has static parts no better than the last of the first and has waited
    -- no longer than the last of the second: v_threshold below bounds its score. Of the rows new in
    -- this round (the prefixes grow), those whose bound from the index (full marks for the parts
    -- that depend on the gap) may still beat the k-th go on: a higher bound, or an equal one with a
    -- better tie-break (tier, added_at, entry) when the k-th was never offered anything.
    select count(*), min(x.static_points),
           array_agg(x.waitlist_entry_id) filter (
             where u.ub is not null
               and (v_kth is null or u.ub > v_kth
                    or (u.ub = v_kth and (v_kth_last is not null
                                          or (x.tier_rank, x.added_at, x.waitlist_entry_id)
                                             < (v_kth_tier, v_kth_added, v_kth_id)))))
      into v_static_rows, v_static_last, v_by_static
      from (select y.*,
                   row_number() over (order by y.static_points desc, y.added_at, y.waitlist_entry_id) as n
              from (select ww.*
                      from unnest(v_compatible) as s(id)
                      cross join lateral (
                        select w0.waitlist_entry_id, w0.static_points, w0.added_at, w0.tier_rank, w0.moveup
                          from slotoptim_private.waitlist_want as w0
                         where w0.org_id = v_gap.org_id and w0.service_id = s.id
                         order by w0.static_points desc, w0.added_at, w0.waitlist_entry_id
                         limit v_page_size) as ww
                     order by ww.static_points desc, ww.added_at, ww.waitlist_entry_id
                     limit v_page_size) as y) as x
      -- The bound of the rows new in this round only (the prefix before them was checked already).
      cross join lateral (
        select case when x.n > v_prev_size
                    then round((v_full + x.static_points
                                + v_gap.weight_fairness
                                  * least(greatest(round(100 * extract(epoch from p_at - x.added_at)
                                                         / v_longest)::integer, 0), 100)
                                + case when x.moveup then v_gap.weight_earlier * 100 else 0 end)::numeric
                               / greatest(v_gap.weight_sum + case when x.moveup then v_gap.weight_earlier else 0 end, 1),
                               2)
               end as ub) as u;
    select count(*), max(x.added_at),
           array_agg(x.waitlist_entry_id) filter (
             where u.ub is not null
               and (v_kth is null or u.ub > v_kth
                    or (u.ub = v_kth and (v_kth_last is not null
                                          or (x.tier_rank, x.added_at, x.waitlist_entry_id)
                                             < (v_kth_tier, v_kth_added, v_kth_id)))))
      into v_age_rows, v_age_last, v_by_age
      from (select y.*,
                   row_number() over (order by y.added_at, y.waitlist_entry_id) as n
              from (select ww.*
                      from unnest(v_compatible) as s(id)
                      cross join lateral (
                        select w0.waitlist_entry_id, w0.static_points, w0.added_at, w0.tier_rank, w0.moveup
                          from slotoptim_private.waitlist_want as w0
                         where w0.org_id = v_gap.org_id and w0.service_id = s.id
                         order by w0.added_at, w0.waitlist_entry_id
                         limit v_page_size) as ww
                     order by ww.added_at, ww.waitlist_entry_id
                     limit v_page_size) as y) as x
      -- The bound of the rows new in this round only (the prefix before them was checked already).
      cross join lateral (
        select case when x.n > v_prev_size
                    then round((v_full + x.static_points
                                + v_gap.weight_fairness
                                  * least(greatest(round(100 * extract(epoch from p_at - x.added_at)
                                                         / v_longest)::integer, 0), 100)
                                + case when x.moveup then v_gap.weight_earlier * 100 else 0 end)::numeric
                               / greatest(v_gap.weight_sum + case when x.moveup then v_gap.weight_earlier else 0 end, 1),
                               2)
               end as ub) as u;
    -- A shorter prefix than asked for is the whole list: every entry has been seen.
    v_exhausted := v_static_rows < v_page_size or v_age_rows < v_page_size;
    -- An entry may be new in one order and seen in the other already (or want two services).
    v_new := array(select distinct x.id from unnest(coalesce(v_by_static, '{}') || coalesce(v_by_age, '{}')) as x(id)
                    where not (x.id = any (v_considered)));
    v_considered := v_considered || v_new;

    -- The new entries that pass the filters needing no slot (the same tests as score_entries, so no
    -- candidate is lost), with their exact bound, in the final order's terms: bound, then tier and
    -- added_at (no entry is known to have been offered less recently than the k-th when that one
    -- never was).
    select array_agg(b.id order by b.ub desc, b.tier_rank, b.added_at, b.id),
           array_agg(b.customer_id order by b.ub desc, b.tier_rank, b.added_at, b.id),
           array_agg(b.ub order by b.ub desc, b.tier_rank, b.added_at, b.id),
           array_agg(b.tier_rank order by b.ub desc, b.tier_rank, b.added_at, b.id),
           array_agg(b.added_at order by b.ub desc, b.tier_rank, b.added_at, b.id)
      into v_pool, v_pool_customers, v_pool_ub, v_pool_tier, v_pool_added
      from (
        select w.id, w.customer_id, ww.tier_rank, w.added_at,
               round((v_gap.weight_time * 100
                      + v_gap.weight_provider
                        * case when w.provider_ids is null or v_gap.provider_id = any (w.provider_ids) then 100 else 40 end
                      + v_gap.weight_service * case when w.service_ids && v_fitting then 100 else 60 end
                      + v_gap.weight_travel * ww.travel_points
                      + v_gap.weight_lead * 100
                      + v_gap.weight_response * ww.response_points
                      + v_gap.weight_fairness
                        * least(greatest(round(100 * extract(epoch from p_at - w.added_at) / v_longest)::integer, 0), 100)
                      -- Move-up hook (issue 12): full marks for "earlier", weighed in as score_entries does.
                      + case when ww.moveup then v_gap.weight_earlier * 100 else 0 end
                     )::numeric
                     / greatest(v_gap.weight_sum + case when ww.moveup then v_gap.weight_earlier else 0 end, 1),
                     2) as ub
          from slotoptim_private.waitlist_entry as w
          -- One of the entry's want rows: its static parts (the same in each).
          cross join lateral (
            select w1.tier_rank, w1.travel_points, w1.response_points, w1.moveup
              from slotoptim_private.waitlist_want as w1
             where w1.org_id = w.org_id and w1.waitlist_entry_id = w.id
             limit 1) as ww
          -- The customer by its key, entry by entry (offset 0 keeps the planner from hashing every
          -- customer of the organisation for a few entries).
          cross join lateral (
            select c0.timezone, c0.opted_out_at, c0.consent_sms, c0.consent_whatsapp, c0.consent_email
              from slotoptim_private.customer as c0
             where c0.id = w.customer_id
            offset 0) as c
         where w.id = any (v_new)
           and w.org_id = v_gap.org_id
           and w.status = 'active'
           and c.opted_out_at is null
           and not (v_gap.provider_id = any (w.excluded_provider_ids))
           and w.consecutive_ignored < v_gap.fatigue_ignored_limit
           and v_gap.ends - p_at > make_interval(mins => w.lead_time_minutes)
           -- Customers without a zone of their own (most) use the organisation's day, computed once.
           and (w.preferred_days is null
                or case when c.timezone is null
                        then v_gap.org_first_dow = any (w.preferred_days) or v_gap.org_last_dow = any (w.preferred_days)
                        else extract(isodow from greatest(v_gap.starts, p_at) at time zone c.timezone)::smallint
                               = any (w.preferred_days)
                          or extract(isodow from v_gap.ends at time zone c.timezone)::smallint = any (w.preferred_days)
                   end)
           and (w.latest_date is null
                or case when c.timezone is null then v_gap.org_first_date
                        else (greatest(v_gap.starts, p_at) at time zone c.timezone)::date end <= w.latest_date)
           and (w.earliest_date is null
                or case when c.timezone is null then v_gap.org_last_date
                        else (v_gap.ends at time zone c.timezone)::date end >= w.earliest_date)
           and (c.consent_sms or c.consent_whatsapp or c.consent_email)
      ) as b;

    -- Scored in chunks in bound order, each with the top p_k so far; the pool ends at the first
    -- entry that cannot beat the k-th (in this order, none after it can either).
    v_i := 1;
    v_chunk := greatest(2 * p_k, v_page_size / 16, 1);
    while v_i <= coalesce(cardinality(v_pool), 0) loop
      exit when v_kth is not null
            and not (v_pool_ub[v_i] > v_kth
                     or (v_pool_ub[v_i] = v_kth
                         and (v_kth_last is not null
                              or (v_pool_tier[v_i], v_pool_added[v_i], v_pool[v_i])
                                 < (v_kth_tier, v_kth_added, v_kth_id))));
      -- A customer is represented by their best entry, and a worse entry of theirs may still win a
      -- tie-break (tier, wait) that their best one loses: so every entry of the chunk's customers is
      -- scored with it, and the best one stands for them.
      v_page := array(select distinct x.id
                        from (select unnest(v_top || v_pool[v_i:v_i + v_chunk - 1]) as id
                              union all
                              select w.id from slotoptim_private.waitlist_entry as w
                               where w.customer_id = any (v_pool_customers[v_i:v_i + v_chunk - 1])
                                 and w.org_id = v_gap.org_id and w.status = 'active') as x);
      select array_agg(t.waitlist_entry_id order by t.n), count(*),
             (array_agg(t.score order by t.n desc))[1],
             (array_agg(slotoptim_private.tier_rank(t.tier) order by t.n desc))[1],
             (array_agg(t.added_at order by t.n desc))[1], (array_agg(t.waitlist_entry_id order by t.n desc))[1],
             (array_agg(t.last_offered_at order by t.n desc))[1],
             jsonb_agg(to_jsonb(t) order by t.n)
        into v_top, v_found, v_kth, v_kth_tier, v_kth_added, v_kth_id, v_kth_last, v_rows
        from (select r.*,
                     row_number() over (order by r.score desc, slotoptim_private.tier_rank(r.tier),
                                                 r.last_offered_at asc nulls first, r.added_at, r.waitlist_entry_id) as n
                from slotoptim_private.score_entries_by_id(p_gap_id, p_at, v_page) as r
               order by n
               limit p_k) as t;
      v_top := coalesce(v_top, '{}');
      if v_found < p_k then
        v_kth := null;
      end if;
      v_i := v_i + v_chunk;
      v_chunk := v_chunk * 2;
    end loop;

    exit when v_exhausted;
    -- No unseen entry scores above v_threshold; the walk ends when that cannot beat the k-th (an
    -- equal bound may still win on a tie-break the indexes do not tell: the walk goes on).
    v_fairness := least(greatest(round(100 * extract(epoch from p_at - v_age_last) / v_longest)::integer, 0), 100);
    v_threshold := round((v_full + v_static_last + v_gap.weight_fairness * v_fairness)::numeric
                         / greatest(v_gap.weight_sum, 1), 2);
    if v_any_moveup then
      v_threshold := greatest(v_threshold,
                              round((v_full + v_static_last + v_gap.weight_fairness * v_fairness
                                     + v_gap.weight_earlier * 100)::numeric
                                    / greatest(v_gap.weight_sum + v_gap.weight_earlier, 1), 2));
    end if;
    exit when v_kth is not null and v_threshold < v_kth;
    -- Prefixes grow fourfold: a long walk takes few rounds.
    v_prev_size := v_page_size;
    v_page_size := v_page_size * 4;
  end loop;

  return query
    select r.waitlist_entry_id, r.customer_id, r.service_id, r.slot, r.channel, r.channel_is_email_only, r.tier,
           r.score, r.time_points, r.provider_points, r.service_points, r.travel_points, r.lead_points,
           r.response_points, r.fairness_points, r.last_offered_at
      -- The rows as score_entries gave them (scoring the top again would cost a call).
      from jsonb_to_recordset(coalesce(v_rows, '[]')) as r(
             waitlist_entry_id bigint, customer_id bigint, service_id bigint, slot tstzrange, channel text,
             channel_is_email_only boolean, tier text, score numeric, time_points integer, provider_points integer,
             service_points integer, travel_points integer, lead_points integer, response_points integer,
             fairness_points integer, last_offered_at timestamptz, n bigint)
     order by r.n;
end;
$$;

comment on function slotoptim_private.rank_candidates(bigint, timestamptz, integer) is
  'The ranked candidates of a gap: all of them (k null, unordered) or the best k in rank order, found by '
  'scoring entries in order of a score bound and stopping when no unscored entry can beat the k-th.';

-- Tier priority: a higher tier goes first among equal scores.
create or replace function slotoptim_private.tier_rank(p_tier text)
returns integer
language sql
immutable
parallel safe
return case p_tier when 'platinum' then 1 when 'gold' then 2 when 'silver' then 3 else 4 end;

-- The ranked candidate list of a gap, each row explaining its score; `top`: only the first `top`
-- ranks (the bounded ranking: the engine's path), null: all of them. The organisation check runs
-- once per call, not per row.
create or replace function slotoptim.candidates(gap_id bigint, at timestamptz, top integer)
returns table (
  rank integer,
  customer_key text,
  entry_key text,
  service_key text,
  slot tstzrange,
  channel text,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  above_threshold boolean
)
language sql
stable
set search_path = ''
as $$
  with caller as materialized (
    select slotoptim_private.current_org() as org_id
  )
  select (row_number() over (order by r.score desc, slotoptim_private.tier_rank(r.tier),
                                      r.last_offered_at asc nulls first, w.added_at, r.waitlist_entry_id))::integer,
         c.key, w.key, s.key, r.slot, r.channel, r.tier, r.score,
         r.time_points, r.provider_points, r.service_points, r.travel_points, r.lead_points,
         r.response_points, r.fairness_points,
         r.score >= st.score_threshold
    from caller
    cross join slotoptim_private.rank_candidates(candidates.gap_id, candidates.at, candidates.top) as r
    join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id
    join slotoptim_private.customer as c on c.id = r.customer_id
    join slotoptim_private.service as s on s.id = r.service_id
    join slotoptim_private.organisation_settings as st on st.org_id = w.org_id
   where caller.org_id is null or w.org_id = caller.org_id
   order by 1;
$$;

comment on function slotoptim.candidates(bigint, timestamptz, integer) is
  'The first `top` ranked waitlist candidates for a gap at a given time (null: all), each with its score''s points.';

create or replace function slotoptim.candidates(gap_id bigint, at timestamptz default now())
returns table (
  rank integer,
  customer_key text,
  entry_key text,
  service_key text,
  slot tstzrange,
  channel text,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  above_threshold boolean
)
language sql
stable
set search_path = ''
as $$
  select * from slotoptim.candidates(candidates.gap_id, candidates.at, null::integer);
$$;

comment on function slotoptim.candidates(bigint, timestamptz) is
  'Ranked waitlist candidates for a gap at a given time: hard filters, then the weighted score with each dimension''s points.';

-- Why each active waitlist entry of the gap's organisation is, or is not, a candidate: the first
-- hard filter that excluded it, in this order: service (nothing it asked for fits the gap, or not
-- with this customer's buffer), provider (excluded), day, dates, window, lead time, consent,
-- opt-out, booked then, daily cap, weekly cap, fatigue, already offered, move-up (a chain guard of
-- a move-up enrolment, issue 12); then "same customer" (a
-- better entry of the same customer is the candidate). Null: a candidate (slotoptim.candidates).
-- An explanation, not the engine's path: it evaluates every entry, where rank_candidates narrows.
create or replace function slotoptim.candidate_exclusions(gap_id bigint, at timestamptz default now())
returns table (
  customer_key text,
  entry_key text,
  service_key text,
  slot tstzrange,
  excluded_by text,
  detail text
)
language sql
stable
set search_path = ''
as $$
  with gap as materialized (
    select g.id, g.org_id, g.provider_id, lower(g.during) as starts, upper(g.during) as ends,
           o.timezone as org_tz, p.timezone as provider_tz, st.slot_grid_minutes as grid,
           st.max_offers_per_day, st.max_offers_per_week, st.fatigue_ignored_limit,
           slotoptim_private.grid_ceil(greatest(lower(g.during), candidate_exclusions.at), st.slot_grid_minutes,
                                       p.timezone) as first_usable
      from slotoptim_private.gap as g
      join slotoptim_private.organisation as o on o.id = g.org_id
      join slotoptim_private.provider as p on p.id = g.provider_id
      join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
     where g.id = candidate_exclusions.gap_id
       and (slotoptim_private.current_org() is null or g.org_id = slotoptim_private.current_org())
  ),
  fitting as materialized (
    select s.id, s.key, s.category, s.minutes, s.price, n.need_minutes
      from gap
      cross join lateral slotoptim_private.service_needs(array[gap.provider_id]) as n
      join slotoptim_private.service as s on s.org_id = gap.org_id and s.key = n.service_key
     where n.need_minutes * 60 <= extract(epoch from gap.ends - greatest(gap.starts, candidate_exclusions.at))
  ),
  shortest as materialized (
    select min(f.need_minutes)::integer as need_minutes from fitting as f
  ),
  ranked as materialized (
    select r.waitlist_entry_id, r.customer_id, r.slot
      from gap
      cross join lateral slotoptim_private.rank_candidates(gap.id, candidate_exclusions.at) as r
  ),
  entry as (
    select w.*, c.key as customer_key, c.opted_out_at, c.phone, c.email,
           c.consent_sms, c.consent_whatsapp, c.consent_email, coalesce(c.timezone, gap.org_tz) as tz,
           ch.id as chosen_id, ch.key as chosen_key, ch.minutes as chosen_minutes,
           ch.minutes + slotoptim_private.buffer_after(ch.id, gap.provider_id, w.customer_id,
                                                       greatest(gap.starts, candidate_exclusions.at)) as need,
           span.first_day, span.last_day
      from gap
      join slotoptim_private.waitlist_entry as w on w.org_id = gap.org_id and w.status = 'active'
      join slotoptim_private.customer as c on c.id = w.customer_id
      cross join lateral (
        select (greatest(gap.starts, candidate_exclusions.at) at time zone coalesce(c.timezone, gap.org_tz))::date
                 as first_day,
               (gap.ends at time zone coalesce(c.timezone, gap.org_tz))::date as last_day
      ) as span
      left join lateral (
        select f.id, f.key, f.minutes
          from fitting as f
         where f.id = any (w.service_ids)
            or f.category in (select s.category from slotoptim_private.service as s where s.id = any (w.service_ids))
         order by (f.id = any (w.service_ids)) desc, f.price desc, f.id
         limit 1
      ) as ch on true
  ),
  placed as (
    select e.*,
           (select p.slot_start from slotoptim_private.place_slot(
              gap.starts, gap.ends, candidate_exclusions.at, gap.first_usable, shortest.need_minutes, 0,
              null, null, e.chosen_minutes, e.need, e.tz, gap.provider_tz, gap.grid) as p) as anywhere,
           (select p.slot_start from slotoptim_private.place_slot(
              gap.starts, gap.ends, candidate_exclusions.at, gap.first_usable, shortest.need_minutes, 0,
              e.window_start, e.window_end, e.chosen_minutes, e.need, e.tz, gap.provider_tz, gap.grid) as p)
             as in_window,
           (select p.slot_start from slotoptim_private.place_slot(
              gap.starts, gap.ends, candidate_exclusions.at, gap.first_usable, shortest.need_minutes,
              e.lead_time_minutes, e.window_start, e.window_end, e.chosen_minutes, e.need, e.tz, gap.provider_tz,
              gap.grid) as p) as placed_at
      from entry as e
      cross join gap
      cross join shortest
  ),
  judged as (
    select pl.*,
           (select count(*) from slotoptim_private.offer as o
             where o.customer_id = pl.customer_id and o.created_at > candidate_exclusions.at - interval '1 day') as today,
           (select count(*) from slotoptim_private.offer as o
             where o.customer_id = pl.customer_id and o.created_at > candidate_exclusions.at - interval '7 days') as week,
           (pl.placed_at at time zone pl.tz) as local_start
      from placed as pl
  )
  select j.customer_key, j.key, j.chosen_key,
         coalesce(r.slot, case when j.placed_at is not null
                               then tstzrange(j.placed_at, j.placed_at + make_interval(mins => j.chosen_minutes), '[)')
                          end),
         v.reason, v.detail
    from judged as j
    cross join gap
    left join ranked as r on r.waitlist_entry_id = j.id
    left join ranked as other on other.customer_id = j.customer_id and other.waitlist_entry_id <> j.id
    cross join lateral (
      select case
               when j.chosen_id is null then 'service'
               when j.anywhere is null then 'service'
               when gap.provider_id = any (j.excluded_provider_ids) then 'provider'
               when j.preferred_days is not null
                and not exists (select 1 from generate_series(0, j.last_day - j.first_day) as d(n)
                                 where extract(isodow from j.first_day + d.n)::smallint = any (j.preferred_days))
                 then 'day'
               when (j.earliest_date is not null and j.last_day < j.earliest_date)
                 or (j.latest_date is not null and j.first_day > j.latest_date) then 'dates'
               when j.in_window is null then 'window'
               when j.placed_at is null then 'lead time'
               when j.preferred_days is not null
                and not (extract(isodow from j.local_start)::smallint = any (j.preferred_days)) then 'day'
               when (j.earliest_date is not null and j.local_start::date < j.earliest_date)
                 or (j.latest_date is not null and j.local_start::date > j.latest_date) then 'dates'
               when not ((j.consent_sms and j.phone is not null) or (j.consent_whatsapp and j.phone is not null)
                         or (j.consent_email and j.email is not null)) then 'consent'
               when j.opted_out_at is not null then 'opt-out'
               when exists (select 1 from slotoptim_private.appointment as a
                             where a.customer_id = j.customer_id
                               and a.status in ('booked', 'confirmed', 'arrived', 'completed')
                               and a.period && tstzrange(j.placed_at,
                                                         j.placed_at + make_interval(mins => j.chosen_minutes), '[)'))
                 then 'booked then'
               when j.today >= gap.max_offers_per_day then 'daily cap'
               when j.week >= gap.max_offers_per_week then 'weekly cap'
               when j.consecutive_ignored >= gap.fatigue_ignored_limit then 'fatigue'
               when exists (select 1 from slotoptim_private.offer as o
                             where o.gap_id = gap.id and o.customer_id = j.customer_id) then 'already offered'
               -- Move-up hook (issue 12): the chain guards.
               when j.moveup_appointment_id is not null and slotoptim_private.moveup_refusal(
                      j.id, j.chosen_id, gap.id, j.placed_at, candidate_exclusions.at) is not null then 'move-up'
               when r.waitlist_entry_id is null and other.waitlist_entry_id is not null then 'same customer'
               when r.waitlist_entry_id is null then 'unexplained'
             end as reason
    ) as why
    cross join lateral (
      select why.reason,
             case why.reason
               when 'service' then
                 case when j.chosen_id is null then 'nothing it asked for (or of the same category) fits the gap'
                      else format('%s does not fit with this customer''s buffer (%s min with it)', j.chosen_key, j.need)
                 end
               when 'provider' then 'the entry excludes this provider'
               when 'day' then 'not on a preferred day'
               when 'dates' then format('outside %s to %s', coalesce(j.earliest_date::text, 'any date'),
                                        coalesce(j.latest_date::text, 'any date'))
               when 'window' then format('nothing fits within %s-%s (or an hour of it)', j.window_start, j.window_end)
               when 'lead time' then format('needs %s min notice', j.lead_time_minutes)
               when 'consent' then 'no channel with consent and an address'
               when 'opt-out' then 'opted out'
               when 'booked then' then 'has an appointment at that time'
               when 'daily cap' then format('%s offers in the last day (cap %s)', j.today, gap.max_offers_per_day)
               when 'weekly cap' then format('%s offers in the last 7 days (cap %s)', j.week, gap.max_offers_per_week)
               when 'fatigue' then format('ignored %s offers in a row', j.consecutive_ignored)
               when 'already offered' then 'was offered this gap already'
               when 'move-up' then slotoptim_private.moveup_refusal(  -- move-up hook (issue 12)
                                     j.id, j.chosen_id, gap.id, j.placed_at, candidate_exclusions.at)
               when 'same customer' then 'another entry of this customer is the candidate'
               when 'unexplained' then 'no filter explains it: a bug to report'
             end
    ) as v(reason, detail)
   order by v.reason nulls first, j.customer_key, j.key;
$$;

comment on function slotoptim.candidate_exclusions(bigint, timestamptz) is
  'Every active waitlist entry of the gap''s organisation with the first hard filter that keeps it from the gap '
  '(service, provider, day, dates, window, lead time, consent, opt-out, booked then, daily cap, weekly cap, fatigue, '
  'already offered, move-up, same customer), or null for a candidate; with the slot it would get.';
