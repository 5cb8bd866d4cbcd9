-- Test-only: rank_candidates as it was before the bounded ranking (issue 18), verbatim but for its
-- name. tests/py/fill/test_ranking_equivalence.py loads it into the test database and checks that
-- the bounded ranking gives the same candidates, scores and order.
create or replace function slotoptim_private.rank_candidates_reference(p_gap_id bigint, p_at timestamptz)
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
language sql
stable
set search_path = ''
as $$
  with gap as materialized (
    select g.id, g.org_id, g.provider_id, g.during, lower(g.during) as starts, upper(g.during) as ends,
           o.timezone as org_tz, p.timezone as provider_tz, st.slot_grid_minutes as grid, st.score_threshold, st.weight_time, st.weight_provider, st.weight_service,
           st.weight_travel, st.weight_lead, st.weight_response, st.weight_fairness, st.fatigue_ignored_limit,
           st.max_offers_per_day, st.max_offers_per_week,
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
    select greatest(extract(epoch from p_at - min(w.added_at)), 1) as seconds
      from gap
      join slotoptim_private.waitlist_entry as w on w.org_id = gap.org_id and w.status = 'active'
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
      join slotoptim_private.waitlist_entry as w
        on w.org_id = gap.org_id
       and w.status = 'active'
       and w.service_ids && compatible.ids
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
         round((gap.weight_time * s.t_points + gap.weight_provider * s.p_points + gap.weight_service * s.v_points
                + gap.weight_travel * s.g_points + gap.weight_lead * s.l_points + gap.weight_response * s.h_points
                + gap.weight_fairness * least(greatest(s.f_points, 0), 100))::numeric
               / greatest(gap.weight_time + gap.weight_provider + gap.weight_service + gap.weight_travel
                          + gap.weight_lead + gap.weight_response + gap.weight_fairness, 1), 2),
         s.t_points, s.p_points, s.v_points, s.g_points, s.l_points, s.h_points, least(greatest(s.f_points, 0), 100),
         recent.last_at
    from scored as s
    cross join gap
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
   order by s.customer_id,
            (gap.weight_time * s.t_points + gap.weight_provider * s.p_points + gap.weight_service * s.v_points
             + gap.weight_travel * s.g_points + gap.weight_lead * s.l_points + gap.weight_response * s.h_points
             + gap.weight_fairness * least(greatest(s.f_points, 0), 100)) desc,
            s.id;
$$;
