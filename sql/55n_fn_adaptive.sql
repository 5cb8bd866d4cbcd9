-- The adaptive offer strategy: waves sized to what the deadline needs.
--
-- Each ranked candidate has a predicted acceptance p (the acceptance model, 54n_fn_acceptance.sql)
-- for the org's wave window w, rescaled from the 15-minute window the model mostly learns from by
-- the channel's log-normal response time (seed 002 medians: sms 3.2, whatsapp 7.1, email 47 min;
-- sigma 1; the normal CDF by its logistic approximation). The plan covers the time until
-- min(deadline, now + horizon), where the deadline is the slot start minus the latest useful
-- notice: K = that time / w waves. Failing to fill with a set of offers has probability
-- prod(1 - p), so reaching the fill target T needs sum(-ln(1 - p)) >= -ln(1 - T) over the plan.
-- Each wave takes an equal share of what is still needed, in rank order: the fewest messages that
-- reach T, with later waves sent only if the earlier ones fail. A wave also stops growing before
-- its expected late claimants per fill, (E[accepts] - P(>= 1 accept)) / P(>= 1 accept), pass the
-- org's maximum. The engine re-plans at every wave (candidates already offered drop out), so a
-- wave that failed makes the next ones larger. Quiet hours and caps are make_offers' as always.

-- The probability that someone who answers on `channel` does so within `window`.
create or replace function slotoptim_private.response_within(p_channel text, p_window interval)
returns float8
language sql
immutable
parallel safe
return 1.0 / (1.0 + exp(-1.702 * ln(greatest(extract(epoch from p_window) / 60.0, 0.01)
                                    / (case p_channel when 'sms' then 3.2 when 'whatsapp' then 7.1
                                                      when 'email' then 47.0 else 5.0 end))));

-- The candidates make_offers would offer now, in its order, each with its predicted acceptance
-- within `p_window`.
create or replace function slotoptim_private.adaptive_candidates(p_gap_id bigint, p_at timestamptz, p_window interval)
returns table (ord integer, waitlist_entry_id bigint, customer_id bigint, customer_key text, channel text,
               send_at timestamptz, p_accept float8)
language sql
stable
set search_path = ''
as $$
  with gap as (
    select g.id, g.org_id, o.timezone as org_tz, st.score_threshold, st.send_window_start, st.send_window_end,
           slotoptim_private.active_acceptance_model(g.org_id) as model_id
      from slotoptim_private.gap as g
      join slotoptim_private.organisation as o on o.id = g.org_id
      join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
     where g.id = p_gap_id
  ), ranked as (
    select r.*, c.key as customer_key, coalesce(c.timezone, gap.org_tz) as tz, gap.model_id,
           slotoptim_private.next_send_time(p_at, coalesce(c.timezone, gap.org_tz), gap.send_window_start,
                                            gap.send_window_end) as send_at,
           row_number() over (order by r.score desc, slotoptim_private.tier_rank(r.tier),
                                       r.last_offered_at asc nulls first, w.added_at, r.waitlist_entry_id) as n
      from gap
      cross join lateral slotoptim_private.rank_candidates(gap.id, p_at) as r
      join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id
      join slotoptim_private.customer as c on c.id = r.customer_id
     where r.score >= gap.score_threshold
       and (not r.channel_is_email_only or lower(r.slot) - p_at >= interval '24 hours')
  )
  select row_number() over (order by r.n)::integer, r.waitlist_entry_id, r.customer_id, r.customer_key, r.channel,
         r.send_at,
         least(0.99, slotoptim_private.predict_acceptance(r.model_id, r.customer_id, r.channel, r.send_at,
                                                          lower(r.slot), r.tier, r.tz)
                     * slotoptim_private.response_within(r.channel, p_window)
                     / slotoptim_private.response_within(r.channel, interval '15 minutes'))
    from ranked as r
   where r.send_at + p_window <= lower(r.slot)
   order by r.n;
$$;

-- The adaptive plan of a gap at p_at: every candidate it would offer, with its wave.
create or replace function slotoptim_private.adaptive_plan(p_gap_id bigint, p_at timestamptz)
returns table (wave integer, wave_send_at timestamptz, response_window interval, waves_planned integer,
               ord integer, waitlist_entry_id bigint, customer_id bigint, customer_key text, channel text,
               p_accept float8, fill_target float8, max_late_claims float8)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_gap slotoptim_private.gap;
  v_settings slotoptim_private.organisation_settings;
  v_deadline timestamptz;
  v_window interval;
  v_waves integer;
  v_need float8;
  v_share float8;
  v_mass float8 := 0;
  v_sum_p float8 := 0;
  v_miss float8 := 1;
  v_count integer := 0;
  v_wave integer := 1;
  v_candidate record;
begin
  select * into v_gap from slotoptim_private.gap as g where g.id = p_gap_id;
  if v_gap.id is null then
    return;
  end if;
  select * into v_settings from slotoptim_private.organisation_settings as st where st.org_id = v_gap.org_id;
  v_deadline := lower(v_gap.during) - v_settings.adaptive_min_notice;
  -- Close to the deadline the window shrinks to what is left (five minutes at least).
  v_window := least(v_settings.adaptive_wave_window, greatest(v_deadline - p_at, interval '5 minutes'));
  v_waves := greatest(1, floor(extract(epoch from least(v_deadline, p_at + v_settings.adaptive_horizon) - p_at)
                               / extract(epoch from v_window)))::integer;
  v_need := -ln(1 - v_settings.adaptive_fill_target::float8);

  for v_candidate in
    select * from slotoptim_private.adaptive_candidates(p_gap_id, p_at, v_window) as c order by c.ord
  loop
    exit when v_wave > v_waves or v_need <= 1e-9;
    -- Adding this candidate would leave too many late claimants per fill: the wave closes.
    if v_count > 0
       and (v_sum_p + v_candidate.p_accept) - (1 - v_miss * (1 - v_candidate.p_accept))
           > v_settings.adaptive_max_late_claims * (1 - v_miss * (1 - v_candidate.p_accept)) then
      v_need := v_need - v_mass;
      v_wave := v_wave + 1;
      v_mass := 0; v_sum_p := 0; v_miss := 1; v_count := 0;
      exit when v_wave > v_waves or v_need <= 1e-9;
    end if;
    v_share := v_need / (v_waves - v_wave + 1);
    wave := v_wave;
    wave_send_at := p_at + v_window * (v_wave - 1);
    response_window := v_window;
    waves_planned := v_waves;
    ord := v_candidate.ord;
    waitlist_entry_id := v_candidate.waitlist_entry_id;
    customer_id := v_candidate.customer_id;
    customer_key := v_candidate.customer_key;
    channel := v_candidate.channel;
    p_accept := v_candidate.p_accept;
    fill_target := v_settings.adaptive_fill_target;
    max_late_claims := v_settings.adaptive_max_late_claims;
    return next;
    v_mass := v_mass - ln(1 - v_candidate.p_accept);
    v_sum_p := v_sum_p + v_candidate.p_accept;
    v_miss := v_miss * (1 - v_candidate.p_accept);
    v_count := v_count + 1;
    if v_mass >= v_share - 1e-9 then
      v_need := v_need - v_mass;
      v_wave := v_wave + 1;
      v_mass := 0; v_sum_p := 0; v_miss := 1; v_count := 0;
    end if;
  end loop;
end;
$$;

-- The adaptive strategy's move for a campaign: offer the first wave of the plan now.
-- Returns how many offers were made.
create or replace function slotoptim_private.adaptive_offers(p_campaign_id bigint, p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gap_id bigint;
  v_count integer;
  v_window interval;
  v_threshold numeric;
begin
  select c.gap_id, st.score_threshold into v_gap_id, v_threshold
    from slotoptim_private.offer_campaign as c
    join slotoptim_private.organisation_settings as st on st.org_id = c.org_id
   where c.id = p_campaign_id;
  select count(*), min(p.response_window) into v_count, v_window
    from slotoptim_private.adaptive_plan(v_gap_id, p_at) as p
   where p.wave = 1;
  if v_count = 0 then
    return 0;
  end if;
  -- make_offers takes the same candidates in the same order (adaptive_candidates mirrors it).
  return slotoptim_private.make_offers(p_campaign_id, v_count, v_threshold, v_window, false, p_at);
end;
$$;

-- The waves the adaptive strategy intends for a gap at `at`, and what each adds.
create or replace function slotoptim.offer_plan(gap_id bigint, at timestamptz default now())
returns table (
  wave integer,
  send_at timestamptz,
  response_window interval,
  offers integer,
  customer_keys text[],
  p_wave_fill real,
  p_fill_cumulative real,
  expected_late_claims_per_fill real,
  note text
)
language sql
stable
set search_path = ''
as $$
  with visible as (
    select g.id from slotoptim_private.gap as g
     where g.id = offer_plan.gap_id
       and (slotoptim_private.current_org() is null or g.org_id = slotoptim_private.current_org())
  ), waves as (
    select p.wave, min(p.wave_send_at) as send_at, min(p.response_window) as response_window,
           min(p.waves_planned) as waves_planned, count(*)::integer as offers,
           array_agg(p.customer_key order by p.ord) as customer_keys,
           1 - exp(sum(ln(1 - p.p_accept))) as p_wave, sum(p.p_accept) as expected_accepts,
           min(p.fill_target) as fill_target, min(p.max_late_claims) as max_late
      from visible
      cross join lateral slotoptim_private.adaptive_plan(visible.id, offer_plan.at) as p
     group by p.wave
  )
  select w.wave, w.send_at, w.response_window, w.offers, w.customer_keys, w.p_wave::real,
         (1 - exp(sum(ln(greatest(1 - w.p_wave, 1e-12))) over (order by w.wave)))::real,
         ((w.expected_accepts - w.p_wave) / nullif(w.p_wave, 0))::real,
         format('wave %s of %s planned: %s offers add %s%% fill probability (target %s%%, at most %s late claimants'
                ' per fill)', w.wave, w.waves_planned, w.offers, round((w.p_wave * 100)::numeric, 1),
                round(w.fill_target::numeric * 100, 1), w.max_late)
    from waves as w
   order by w.wave;
$$;

comment on function slotoptim.offer_plan(bigint, timestamptz) is
  'The adaptive strategy''s intended waves for a gap: offers per wave, the fill probability each adds, expected late claimants per fill.';
