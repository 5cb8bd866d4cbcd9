-- The adaptive offer strategy: waves sized to what the deadline needs.
--
-- Each ranked candidate has a predicted acceptance p (the acceptance model, 54n_fn_acceptance.sql)
-- for the org's response window w, rescaled from the 15-minute window the model mostly learns from
-- by the channel's log-normal response time (seed 002 medians: sms 3.2, whatsapp 7.1, email 47 min;
-- sigma 1; the normal CDF by its logistic approximation). Waves go every s minutes, s being when 80 %
-- of those who will answer the top candidate's channel have answered (sms: 8 min), while earlier
-- offers stay open for their whole window. The plan covers the time until min(deadline, now +
-- horizon), the deadline being the slot start minus the latest useful notice: K = that time / s
-- waves, a later wave counting only the part of its window inside the horizon. Failing to fill
-- with a set of offers has probability prod(1 - p), so reaching the fill target T needs
-- sum(-ln(1 - p)) >= -ln(1 - T) over the plan. Each wave takes an equal share of what is still
-- needed, in rank order: few messages per wave, later waves sent only if the earlier ones fail. A
-- wave also stops growing before its expected late claimants per fill,
-- (E[accepts] - P(>= 1 accept)) / P(>= 1 accept), pass the organisation's maximum. The engine
-- re-plans at every wave (candidates already offered drop out), so a wave that failed makes the
-- next ones larger. Quiet hours and caps are make_offers' as for every strategy.

-- Seed 002's median response time of a channel, in minutes.
create or replace function slotoptim_private.response_median_minutes(p_channel text)
returns float8
language sql
immutable
parallel safe
return case p_channel when 'sms' then 3.2 when 'whatsapp' then 7.1 when 'email' then 47.0 else 5.0 end;

-- The probability that someone who answers on `channel` does so within `window`.
create or replace function slotoptim_private.response_within(p_channel text, p_window interval)
returns float8
language sql
immutable
parallel safe
return 1.0 / (1.0 + exp(-1.702 * ln(greatest(extract(epoch from p_window) / 60.0, 0.01)
                                    / slotoptim_private.response_median_minutes(p_channel))));

-- The candidates make_offers would offer now, in its order (both take them from
-- slotoptim_private.wave_candidates, sql/54w_fn_wave_candidates.sql), each with its predicted
-- acceptance within `p_window`.
create or replace function slotoptim_private.adaptive_candidates(p_gap_id bigint, p_at timestamptz, p_window interval)
returns table (ord integer, waitlist_entry_id bigint, customer_id bigint, customer_key text, channel text,
               send_at timestamptz, p_accept float8)
language sql
stable
set search_path = ''
as $$
  select row_number() over (order by wc.n)::integer, wc.waitlist_entry_id, wc.customer_id, wc.customer_key,
         wc.channel, wc.send_at,
         least(0.99, slotoptim_private.predict_acceptance(m.model_id, wc.customer_id, wc.channel, wc.send_at,
                                                          lower(wc.slot), wc.tier, wc.timezone)
                     * slotoptim_private.response_within(wc.channel, p_window)
                     / slotoptim_private.response_within(wc.channel, interval '15 minutes'))
    from slotoptim_private.gap as g
    join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
    cross join lateral slotoptim_private.active_acceptance_model(g.org_id) as m(model_id)
    cross join lateral slotoptim_private.wave_candidates(g.id, p_at, null::integer, st.score_threshold, p_window, false) as wc
   where g.id = p_gap_id
     and wc.eligible
   order by wc.n;
$$;

-- The adaptive plan of a gap at p_at: every candidate it would offer, with its wave.
create or replace function slotoptim_private.adaptive_plan(p_gap_id bigint, p_at timestamptz)
returns table (wave integer, wave_send_at timestamptz, response_window interval, spacing interval,
               waves_planned integer, ord integer, waitlist_entry_id bigint, customer_id bigint, customer_key text,
               channel text, p_accept float8, fill_target float8, max_late_claims float8)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_gap slotoptim_private.gap;
  v_settings slotoptim_private.organisation_settings;
  v_deadline timestamptz;
  v_end timestamptz;
  v_window interval;
  v_spacing interval;
  v_waves integer;
  v_need float8;
  v_share float8;
  v_p float8;
  v_mass float8 := 0;
  v_sum_p float8 := 0;
  v_miss float8 := 1;
  v_count integer := 0;
  v_wave integer := 1;
  v_candidate record;
  v_surge boolean;
begin
  select * into v_gap from slotoptim_private.gap as g where g.id = p_gap_id;
  if v_gap.id is null then
    return;
  end if;
  select * into v_settings from slotoptim_private.organisation_settings as st where st.org_id = v_gap.org_id;
  v_deadline := lower(v_gap.during) - v_settings.adaptive_min_notice;
  -- A holiday surge (sql/54r_fn_surge.sql) halves the window and the horizon: each offer has less
  -- time to be answered, so each wave takes more candidates to reach its share of the target.
  v_surge := slotoptim_private.surge_day(v_gap.org_id, lower(v_gap.during));
  -- Close to the deadline the window shrinks to what is left (five minutes at least).
  v_window := least(slotoptim_private.surge_window(v_settings.adaptive_wave_window, v_surge),
                    greatest(v_deadline - p_at, interval '5 minutes'));
  v_end := greatest(least(v_deadline, p_at + slotoptim_private.surge_window(v_settings.adaptive_horizon, v_surge)),
                    p_at + v_window);
  v_need := -ln(1 - v_settings.adaptive_fill_target::float8);

  for v_candidate in
    select * from slotoptim_private.adaptive_candidates(p_gap_id, p_at, v_window) as c order by c.ord
  loop
    if v_spacing is null then
      -- The next wave goes when 80 % of those who will answer the top candidate's channel have
      -- (log-normal, sigma 1: the median times e^0.84), whole minutes, 2 minutes to a window.
      v_spacing := least(v_window, greatest(interval '2 minutes', pg_catalog.make_interval(
                     mins => ceil(slotoptim_private.response_median_minutes(v_candidate.channel) * exp(0.8416))::integer)));
      v_waves := greatest(1, floor(extract(epoch from v_end - p_at) / extract(epoch from v_spacing)))::integer;
    end if;
    exit when v_wave > v_waves or v_need <= 1e-9;
    -- What this offer adds within the horizon: a later wave has less of its window left in it.
    v_p := v_candidate.p_accept
           * slotoptim_private.response_within(v_candidate.channel,
               least(v_window, v_end - (p_at + v_spacing * (v_wave - 1))))
           / slotoptim_private.response_within(v_candidate.channel, v_window);
    -- Adding this candidate would leave too many late claimants per fill: the wave closes.
    if v_count > 0
       and (v_sum_p + v_p) - (1 - v_miss * (1 - v_p))
           > v_settings.adaptive_max_late_claims * (1 - v_miss * (1 - v_p)) then
      v_need := v_need - v_mass;
      v_wave := v_wave + 1;
      v_mass := 0; v_sum_p := 0; v_miss := 1; v_count := 0;
      exit when v_wave > v_waves or v_need <= 1e-9;
      v_p := v_candidate.p_accept
             * slotoptim_private.response_within(v_candidate.channel,
                 least(v_window, v_end - (p_at + v_spacing * (v_wave - 1))))
             / slotoptim_private.response_within(v_candidate.channel, v_window);
    end if;
    v_share := v_need / (v_waves - v_wave + 1);
    wave := v_wave;
    wave_send_at := p_at + v_spacing * (v_wave - 1);
    response_window := v_window;
    spacing := v_spacing;
    waves_planned := v_waves;
    ord := v_candidate.ord;
    waitlist_entry_id := v_candidate.waitlist_entry_id;
    customer_id := v_candidate.customer_id;
    customer_key := v_candidate.customer_key;
    channel := v_candidate.channel;
    p_accept := v_p;
    fill_target := v_settings.adaptive_fill_target;
    max_late_claims := v_settings.adaptive_max_late_claims;
    return next;
    v_mass := v_mass - ln(1 - v_p);
    v_sum_p := v_sum_p + v_p;
    v_miss := v_miss * (1 - v_p);
    v_count := v_count + 1;
    if v_mass >= v_share - 1e-9 then
      v_need := v_need - v_mass;
      v_wave := v_wave + 1;
      v_mass := 0; v_sum_p := 0; v_miss := 1; v_count := 0;
    end if;
  end loop;
end;
$$;

-- The adaptive strategy's move for a campaign: offer the first wave of the plan now, and note when
-- the second goes if this one has not filled the gap by then. Returns how many offers were made.
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
  v_spacing interval;
  v_threshold numeric;
  v_later boolean;
begin
  select c.gap_id, st.score_threshold into v_gap_id, v_threshold
    from slotoptim_private.offer_campaign as c
    join slotoptim_private.organisation_settings as st on st.org_id = c.org_id
   where c.id = p_campaign_id;
  select count(*) filter (where p.wave = 1), min(p.response_window), min(p.spacing), bool_or(p.wave > 1)
    into v_count, v_window, v_spacing, v_later
    from slotoptim_private.adaptive_plan(v_gap_id, p_at) as p;
  if v_count = 0 then
    update slotoptim_private.offer_campaign set next_wave_at = null where id = p_campaign_id;
    return 0;
  end if;
  -- make_offers takes the same candidates in the same order (both use wave_candidates).
  v_count := slotoptim_private.make_offers(p_campaign_id, v_count, v_threshold, v_window, false, p_at);
  -- The spacing runs from when the wave is actually sent (quiet hours may defer it to the morning).
  update slotoptim_private.offer_campaign as c
     set next_wave_at = case when v_later then
                          (select max(o.send_at) from slotoptim_private.offer as o
                            where o.campaign_id = p_campaign_id and o.created_at = p_at) + v_spacing
                        end
   where c.id = p_campaign_id;
  return v_count;
end;
$$;

-- Whether an adaptive campaign's next wave is due although offers are still open: its time has
-- come and someone is left to ask (else the wave is dropped and the open offers run their course).
create or replace function slotoptim_private.adaptive_wave_due(p_campaign_id bigint, p_at timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_campaign slotoptim_private.offer_campaign;
begin
  select * into v_campaign from slotoptim_private.offer_campaign as c where c.id = p_campaign_id;
  if v_campaign.strategy is distinct from 'adaptive' or v_campaign.next_wave_at is null
     or v_campaign.next_wave_at > p_at then
    return false;
  end if;
  if exists (select 1 from slotoptim_private.adaptive_plan(v_campaign.gap_id, p_at)) then
    return true;
  end if;
  update slotoptim_private.offer_campaign set next_wave_at = null where id = p_campaign_id;
  return false;
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
