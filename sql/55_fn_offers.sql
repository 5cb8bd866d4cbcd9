-- Offer campaigns: who hears about a gap, when, and what happens when nobody answers.
-- Every decision writes rows (offers, outbox messages, next_action_at) in one transaction, so a
-- listener that dies loses nothing and a second one repeats nothing.

-- Makes offers for a campaign to the best remaining candidates; returns how many were made.
-- A candidate whose local send window opens too late for the offer to run its course before the
-- slot starts is skipped. Email-only candidates need allow_email or a slot a day away.
create or replace function slotoptim_private.make_offers(
  p_campaign_id bigint,
  p_limit integer,
  p_min_score numeric,
  p_window interval,
  p_allow_email boolean,
  p_at timestamptz
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_campaign slotoptim_private.offer_campaign;
  v_k integer := p_limit;
  v_made integer := 0;
  v_batch integer;
  v_ranked integer;
  v_surge boolean;
begin
  select * into v_campaign from slotoptim_private.offer_campaign where id = p_campaign_id;
  -- A holiday surge (sql/54r_fn_surge.sql): shorter windows, wider waves. The adaptive plan
  -- already sized its wave and window for the surge (sql/55n_fn_adaptive.sql).
  v_surge := v_campaign.strategy <> 'adaptive'
             and slotoptim_private.surge_day(v_campaign.org_id,
                   (select lower(g.during) from slotoptim_private.gap as g where g.id = v_campaign.gap_id));
  p_limit := slotoptim_private.surge_wave(p_limit, v_surge);
  p_window := slotoptim_private.surge_window(p_window, v_surge);
  v_k := p_limit;

  -- One statement per wave: the best p_limit candidates (all with no limit) that pass the wave's
  -- filters get their offer, their message and their count. The bounded ranking returns the best
  -- v_k; when the filters drop some of them and more may exist, the next round asks for more
  -- (those offered are no candidates any more: the ranking of the rest is unchanged).
  loop
    with ranked as materialized (
      -- The candidates and their eligibility for this wave: sql/54w_fn_wave_candidates.sql.
      select wc.* from slotoptim_private.wave_candidates(v_campaign.gap_id, p_at, v_k, p_min_score, p_window,
                                                         p_allow_email) as wc
    ),
    chosen as materialized (
      select r.* from ranked as r
       where r.eligible
       order by r.n
       limit case when p_limit is null then null else p_limit - v_made end
    ),
    offers as (
      insert into slotoptim_private.offer (
        org_id, campaign_id, gap_id, waitlist_entry_id, customer_id, service_id, slot, wave, score, score_detail,
        channel, status, created_at, send_at, expires_at)
      select v_campaign.org_id, v_campaign.id, v_campaign.gap_id, ch.waitlist_entry_id, ch.customer_id,
             ch.service_id, ch.slot, v_campaign.wave, ch.score,
             pg_catalog.jsonb_build_object(
               'time', ch.time_points, 'provider', ch.provider_points, 'service', ch.service_points,
               'travel', ch.travel_points, 'lead', ch.lead_points, 'response', ch.response_points,
               'fairness', ch.fairness_points),
             ch.channel, 'open', p_at, ch.send_at, ch.send_at + p_window
        from chosen as ch
       order by ch.n
      returning id, waitlist_entry_id
    ),
    messages as (
      insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, not_before,
                                             created_at)
      select v_campaign.org_id, ch.customer_id, o.id, 'offer', ch.channel,
             case when ch.channel = 'email' then ch.email else ch.phone end, ch.send_at, p_at
        from offers as o
        join chosen as ch on ch.waitlist_entry_id = o.waitlist_entry_id
       order by o.id
    ),
    counted as (
      update slotoptim_private.waitlist_entry as w
         set offers_received = w.offers_received + 1
        from offers as o
       where w.id = o.waitlist_entry_id
    )
    select (select count(*) from offers), (select count(*) from ranked) into v_batch, v_ranked;
    v_made := v_made + v_batch;
    exit when v_k is null or v_made >= p_limit or v_ranked < v_k;
    v_k := v_k * 4;
  end loop;

  if v_made > 0 then
    perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
      pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'campaign_id', p_campaign_id)::text);
  end if;
  return v_made;
end;
$$;

-- Retracts the live offers of a gap (it was filled, or it expired). Customers who already received
-- an offer hear that the opening is gone; messages not yet sent are cancelled.
create or replace function slotoptim_private.retract_offers(p_gap_id bigint, p_kind text, p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_count integer;
begin
  with retracted as (
    update slotoptim_private.offer
       set status = 'retracted', responded_at = coalesce(responded_at, p_at)
     where gap_id = p_gap_id
       and status in ('open', 'awaiting_approval')
    returning *
  ), cancelled as (
    update slotoptim_private.message as m
       set status = 'cancelled', locked_by = null, locked_until = null
      from retracted as r
     where m.offer_id = r.id
       and m.status = 'queued'
    returning m.offer_id
  ), told as (
    insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, not_before, created_at)
    select r.org_id, r.customer_id, r.id, p_kind, r.channel,
           case when r.channel = 'email' then c.email else c.phone end, p_at, p_at
      from retracted as r
      join slotoptim_private.customer as c on c.id = r.customer_id
     where r.send_at <= p_at
       and c.opted_out_at is null
       and r.id not in (select offer_id from cancelled)
    returning 1
  )
  select count(*) into v_count from retracted;
  if v_count > 0 then
    perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
      pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'gap_id', p_gap_id)::text);
  end if;
  return v_count;
end;
$$;

-- Offers past their window count as ignored; an entry ignored fatigue_ignored_limit times in a row
-- stops receiving offers and is asked (once) to update its preferences.
create or replace function slotoptim_private.expire_offers(p_campaign_id bigint, p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_count integer;
begin
  with expired as (
    update slotoptim_private.offer
       set status = 'expired'
     where campaign_id = p_campaign_id
       and status = 'open'
       and expires_at <= p_at
    returning waitlist_entry_id
  ), bumped as (
    update slotoptim_private.waitlist_entry as w
       set offers_ignored = w.offers_ignored + 1,
           consecutive_ignored = w.consecutive_ignored + 1
      from expired as e
     where w.id = e.waitlist_entry_id
    returning w.*
  ), fatigued as (
    insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, not_before, created_at)
    select b.org_id, b.customer_id, 'preferences',
           case when c.consent_sms and c.phone is not null then 'sms'
                when c.consent_whatsapp and c.phone is not null then 'whatsapp' else 'email' end,
           coalesce(case when (c.consent_sms or c.consent_whatsapp) then c.phone end, c.email),
           slotoptim_private.next_send_time(p_at, coalesce(c.timezone, o.timezone), st.send_window_start, st.send_window_end),
           p_at
      from bumped as b
      join slotoptim_private.customer as c on c.id = b.customer_id
      join slotoptim_private.organisation as o on o.id = b.org_id
      join slotoptim_private.organisation_settings as st on st.org_id = b.org_id
     where b.consecutive_ignored = st.fatigue_ignored_limit
       and c.opted_out_at is null
       and coalesce(case when (c.consent_sms or c.consent_whatsapp) then c.phone end,
                    case when c.consent_email then c.email end) is not null
    returning 1
  )
  select count(*) into v_count from expired;
  return v_count;
end;
$$;

-- Moves a campaign forward at time p_at: expires what is over, then lets the strategy decide the
-- next offers, or releases the gap to the booking portal when nobody is left.
create or replace function slotoptim_private.advance_campaign(p_campaign_id bigint, p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_campaign slotoptim_private.offer_campaign;
  v_gap slotoptim_private.gap;
  v_settings slotoptim_private.organisation_settings;
  v_live integer;
  v_made integer;
  v_wave record;
  v_smallest integer;
  v_ranked integer;
begin
  -- Lock order: gap, then campaign (as claims do).
  select * into v_gap from slotoptim_private.gap
   where id = (select c.gap_id from slotoptim_private.offer_campaign as c where c.id = p_campaign_id)
     for update;
  select * into v_campaign from slotoptim_private.offer_campaign where id = p_campaign_id for update;
  if v_campaign.status not in ('running', 'awaiting_approval') or v_campaign.gap_id <> v_gap.id then
    return;
  end if;
  select * into v_settings from slotoptim_private.organisation_settings where org_id = v_campaign.org_id;

  -- The gap is gone, or no service fits in what is left of it: the campaign ends.
  select min(n.need_minutes) into v_smallest from slotoptim_private.service_needs(array[v_gap.provider_id]) as n;
  if v_gap.status not in ('open', 'offering')
     or v_smallest is null
     or upper(v_gap.during) - greatest(lower(v_gap.during), p_at) < pg_catalog.make_interval(mins => v_smallest) then
    if v_gap.status in ('open', 'offering') then
      update slotoptim_private.gap set status = 'expired', closed_at = p_at where id = v_gap.id;
    end if;
    perform slotoptim_private.retract_offers(v_gap.id, 'retracted', p_at);
    update slotoptim_private.offer_campaign
       set status = case when v_gap.status = 'filled' then 'filled' else 'expired' end,
           status_reason = case
             when v_gap.status = 'filled' then 'filled: the gap was booked'
             when v_gap.status not in ('open', 'offering') then format('ended: the gap is %s', v_gap.status)
             when v_smallest is null then 'expired: the provider offers no active service'
             when upper(v_gap.during) <= p_at then 'expired: the gap is over'
             else format('expired: what is left of the gap (%s min) fits no service (the shortest needs %s min)',
                         greatest(0, floor(extract(epoch from upper(v_gap.during) - greatest(lower(v_gap.during), p_at))
                                           / 60))::integer,
                         v_smallest)
           end,
           closed_at = p_at, next_action_at = null
     where id = v_campaign.id;
    return;
  end if;

  perform slotoptim_private.expire_offers(v_campaign.id, p_at);

  if v_campaign.status = 'awaiting_approval' then
    if exists (select 1 from slotoptim_private.offer
                where campaign_id = v_campaign.id and status = 'awaiting_approval'
                  and responded_at + v_settings.approval_window > p_at) then
      update slotoptim_private.offer_campaign
         set next_action_at = (select min(responded_at) + v_settings.approval_window from slotoptim_private.offer
                                where campaign_id = v_campaign.id and status = 'awaiting_approval')
       where id = v_campaign.id;
      return;
    end if;
    -- Staff did not answer in time: the claim lapses and offering resumes.
    update slotoptim_private.offer set status = 'expired'
     where campaign_id = v_campaign.id and status = 'awaiting_approval';
    update slotoptim_private.offer_campaign
       set status = 'running', status_reason = 'running: staff did not approve the claim in time'
     where id = v_campaign.id;
  end if;

  select count(*) into v_live from slotoptim_private.offer
   where campaign_id = v_campaign.id and status = 'open';

  if v_live = 0 or slotoptim_private.adaptive_wave_due(v_campaign.id, p_at) then
    v_made := 0;
    case v_campaign.strategy
      when 'sequential' then
        v_made := slotoptim_private.make_offers(v_campaign.id, 1, v_settings.score_threshold,
                                                v_settings.sequential_window, false, p_at);
      when 'burst', 'staff_approval' then
        v_made := slotoptim_private.make_offers(v_campaign.id, v_settings.burst_size, v_settings.score_threshold,
                                                v_settings.burst_window, false, p_at);
      when 'broadcast' then
        if v_campaign.wave = 0 then
          v_made := slotoptim_private.make_offers(v_campaign.id, null, v_settings.score_threshold,
                                                  v_settings.broadcast_window, true, p_at);
        end if;
      when 'adaptive' then
        v_made := slotoptim_private.adaptive_offers(v_campaign.id, p_at);
      when 'cascade' then
        for v_wave in
          select * from slotoptim_private.cascade_waves(v_campaign.org_id) as w where w.wave > v_campaign.wave
        loop
          update slotoptim_private.offer_campaign set wave = v_wave.wave, wave_started_at = p_at where id = v_campaign.id;
          v_made := slotoptim_private.make_offers(v_campaign.id, v_wave.max_candidates, v_wave.min_score,
                                                  v_wave.response_window, v_wave.allow_email, p_at);
          exit when v_made > 0;
        end loop;
    end case;

    if v_made = 0 then
      -- Nobody left to ask: release the gap to the booking portal, saying why.
      select count(*) into v_ranked from slotoptim_private.rank_candidates(v_gap.id, p_at);
      update slotoptim_private.offer_campaign
         set status = 'released', closed_at = p_at, next_action_at = null,
             status_reason = case
               when v_ranked = 0
                 then 'released: no waitlist entry passes the hard filters (slotoptim.candidate_exclusions says why)'
               else format('released: %s candidates left, none above the wave''s minimum score or able to answer '
                           'before the slot starts', v_ranked)
             end
       where id = v_campaign.id;
      update slotoptim_private.gap set status = 'open' where id = v_gap.id and status = 'offering';
      return;
    end if;
    if v_campaign.strategy <> 'cascade' then
      update slotoptim_private.offer_campaign
         set wave = wave + 1, wave_started_at = p_at
       where id = v_campaign.id;
    end if;
    update slotoptim_private.offer_campaign as c
       set status_reason = format('wave %s: %s offers made%s', c.wave, v_made,
                                  case when v_campaign.wave > 0
                                       then format(', wave %s ended without a claim', v_campaign.wave) else '' end)
     where c.id = v_campaign.id;
  end if;

  update slotoptim_private.offer_campaign
     set next_action_at = least(
           (select min(expires_at) from slotoptim_private.offer where campaign_id = v_campaign.id and status = 'open'),
           (select c.next_wave_at from slotoptim_private.offer_campaign as c where c.id = v_campaign.id),
           upper(v_gap.during) - pg_catalog.make_interval(mins => v_smallest))
   where id = v_campaign.id;
end;
$$;

-- Starts (or restarts) offering a gap with a strategy (default: the organisation's).
-- Returns the campaign id.
create or replace function slotoptim.start_offers(gap_id bigint, strategy text default null, at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gap slotoptim_private.gap;
  v_strategy text;
  v_campaign_id bigint;
begin
  select * into v_gap from slotoptim_private.gap as g
   where g.id = start_offers.gap_id
     and (slotoptim_private.current_org() is null or g.org_id = slotoptim_private.current_org())
     for update;
  if v_gap.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown gap %s', start_offers.gap_id);
  end if;
  if v_gap.status not in ('open', 'offering') then
    raise exception using errcode = 'check_violation',
      message = format('gap %s is %s and cannot be offered', start_offers.gap_id, v_gap.status);
  end if;
  select coalesce(start_offers.strategy, st.offer_strategy) into v_strategy
    from slotoptim_private.organisation_settings as st where st.org_id = v_gap.org_id;
  if v_strategy not in ('sequential', 'broadcast', 'burst', 'cascade', 'staff_approval', 'adaptive') then
    raise exception using errcode = 'invalid_parameter_value',
      message = format('unknown strategy %s (sequential, broadcast, burst, cascade, staff_approval, adaptive)',
                       pg_catalog.quote_literal(v_strategy));
  end if;

  -- A restart closes the running campaign and withdraws its offers.
  perform slotoptim_private.retract_offers(v_gap.id, 'retracted', start_offers.at)
     from slotoptim_private.offer_campaign as c
    where c.gap_id = v_gap.id and c.status in ('running', 'awaiting_approval');
  update slotoptim_private.offer_campaign as c
     set status = 'cancelled', closed_at = start_offers.at, next_action_at = null,
         status_reason = format('cancelled: restarted as %s', v_strategy)
   where c.gap_id = v_gap.id and c.status in ('running', 'awaiting_approval');

  insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, started_at, next_action_at, status_reason)
  values (v_gap.org_id, v_gap.id, v_strategy, start_offers.at, start_offers.at,
          format('started: %s%s', v_strategy,
                 case when start_offers.strategy is null then ' (the organisation''s strategy)' else '' end))
  returning id into v_campaign_id;
  update slotoptim_private.gap set status = 'offering' where id = v_gap.id;
  perform slotoptim_private.advance_campaign(v_campaign_id, start_offers.at);
  return v_campaign_id;
end;
$$;

comment on function slotoptim.start_offers(bigint, text, timestamptz) is
  'Starts or restarts offering a gap: sequential, broadcast, burst, cascade, staff_approval or adaptive (default: the organisation''s).';

-- One pass of the engine at time p_at, safe to run from several listeners at once (SKIP LOCKED):
-- new bookable gaps of organisations with auto_offer start a campaign; due campaigns advance.
create or replace function slotoptim.tick(at timestamptz default now())
returns table (campaigns_started integer, campaigns_advanced integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(tick.at);
  v_started integer := 0;
  v_advanced integer := 0;
  v_id bigint;
  v_actor text := pg_catalog.current_setting('slotoptim.actor', true);
begin
  -- First the losers of claims committed since the last pass (issue 18). The engine retracts them
  -- in transactions of their own before it ticks (slotoptim.listener.retraction); this catches
  -- them for whoever ticks alone (simulations, the CLI). Each names its claimant as the actor.
  while slotoptim_private.retract_claimed_gap() is not null loop
  end loop;
  perform pg_catalog.set_config('slotoptim.actor', coalesce(v_actor, ''), true);
  for v_id in
    select g.id
      from slotoptim_private.gap as g
      join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
     where g.status = 'open'
       and g.kind = 'bookable'
       and st.auto_offer
       and upper(g.during) > tick.at
       and not exists (select 1 from slotoptim_private.offer_campaign as c where c.gap_id = g.id)
     order by g.id
     for update of g skip locked
  loop
    perform slotoptim.start_offers(v_id, null, tick.at);
    v_started := v_started + 1;
  end loop;

  for v_id in
    select c.id
      from slotoptim_private.offer_campaign as c
      join slotoptim_private.gap as g on g.id = c.gap_id
     where c.status in ('running', 'awaiting_approval')
       and c.next_action_at <= tick.at
     order by c.next_action_at
     for update of g skip locked
  loop
    perform slotoptim_private.advance_campaign(v_id, tick.at);
    v_advanced := v_advanced + 1;
  end loop;

  -- Reminders hook (issue 12): reminders due now go to the outbox.
  perform slotoptim.send_due_reminders(tick.at);

  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  campaigns_started := v_started;
  campaigns_advanced := v_advanced;
  return next;
end;
$$;

comment on function slotoptim.tick(timestamptz) is
  'One engine pass at a given time: start campaigns for new gaps, advance due ones. Safe to run concurrently.';
