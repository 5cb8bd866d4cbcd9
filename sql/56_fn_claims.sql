-- Claims: the first valid "yes" books the slot. The appointment insert is the final arbiter (the
-- exclusion constraint); the offer and the gap change with compare-and-set under row locks.

-- True while a claim has filled the gap and the engine has yet to retract its other offers
-- (slotoptim_private.offer_retraction): those offers are still 'open' but as good as retracted.
-- Whatever picks "the offer a text answers" ranks them last (inbound_text, the API's routing).
create or replace function slotoptim_private.retraction_pending(p_gap_id bigint)
returns boolean
language sql
stable
parallel safe
-- No SET clause: the planner inlines it into the caller's query.
return exists (select 1 from slotoptim_private.offer_retraction as r where r.gap_id = p_gap_id);

comment on function slotoptim_private.retraction_pending(bigint) is
  'True while a claim filled the gap and the engine has yet to retract its other offers (queued in offer_retraction).';

-- Locks the gap an offer belongs to (retrying if a merge moved the offer meanwhile) and returns it.
create or replace function slotoptim_private.lock_gap_of_offer(p_offer_id bigint)
returns slotoptim_private.gap
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gap slotoptim_private.gap;
  v_gap_id bigint;
begin
  for attempt in 1..3 loop
    select o.gap_id into v_gap_id from slotoptim_private.offer as o where o.id = p_offer_id;
    if v_gap_id is null then
      return null;
    end if;
    select * into v_gap from slotoptim_private.gap as g where g.id = v_gap_id for update;
    exit when exists (select 1 from slotoptim_private.offer as o where o.id = p_offer_id and o.gap_id = v_gap_id);
  end loop;
  return v_gap;
end;
$$;

create or replace function slotoptim_private.book_offer(p_offer_id bigint, p_at timestamptz)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
  v_appointment_id bigint;
begin
  select * into v_offer from slotoptim_private.offer where id = p_offer_id;
  -- Mark the offer first, so the gap's retraction spares it.
  update slotoptim_private.offer set status = 'claimed', responded_at = p_at where id = p_offer_id;
  -- The insert fills the gap (slotoptim_private.consume_gaps); the gap's other offers are retracted
  -- after this transaction commits, by the engine (slotoptim_private.retract_claimed_gap): the
  -- winner does not pay for the losers. Until then the gap's status refuses their claims and the
  -- sender holds back their queued messages (slotoptim.claim_messages).
  perform pg_catalog.set_config('slotoptim.retract_after_commit', 'on', true);
  insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, status, source, booked_at)
  select v_offer.org_id, g.provider_id, v_offer.service_id, v_offer.customer_id, v_offer.slot, 'booked', 'waitlist', p_at
    from slotoptim_private.gap as g where g.id = v_offer.gap_id
  returning id into v_appointment_id;
  perform pg_catalog.set_config('slotoptim.retract_after_commit', '', true);

  update slotoptim_private.offer set appointment_id = v_appointment_id where id = p_offer_id;
  -- Move-up hook (issue 12): a move-up claim cancels the held appointment in this transaction.
  perform slotoptim_private.moveup_complete(p_offer_id, v_appointment_id, p_at);
  update slotoptim_private.waitlist_entry
     set status = 'fulfilled', offers_accepted = offers_accepted + 1, consecutive_ignored = 0
   where id = v_offer.waitlist_entry_id;
  update slotoptim_private.offer_campaign
     set status = 'filled', closed_at = p_at, next_action_at = null,
         status_reason = format('filled: offer %s was claimed', p_offer_id)
   where id = v_offer.campaign_id and status in ('running', 'awaiting_approval');
  insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, not_before, created_at)
  select v_offer.org_id, v_offer.customer_id, v_offer.id, 'booked', v_offer.channel,
         case when v_offer.channel = 'email' then c.email else c.phone end, p_at, p_at
    from slotoptim_private.customer as c where c.id = v_offer.customer_id;
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
    pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'offer_id', p_offer_id)::text);
  return v_appointment_id;
end;
$$;

-- Claims an offer for a customer at time p_at. Outcomes: booked, awaiting_approval (staff confirm
-- first), already_yours, being_confirmed (someone else's claim awaits staff), filled, expired,
-- not_yours, unknown. Never raises for a customer's mistake; a lost race is "filled".
create or replace function slotoptim.claim_offer(offer_id bigint, customer_id bigint, at timestamptz default now())
returns table (outcome text, appointment_id bigint, gap_id bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(claim_offer.at);
  v_offer slotoptim_private.offer;
  v_gap slotoptim_private.gap;
  v_campaign slotoptim_private.offer_campaign;
begin
  -- Lock order everywhere: gap, then campaign, then offers. Every claimant of a gap queues on the
  -- gap row, so the winner can retract the others' offers without waiting for them.
  v_gap := slotoptim_private.lock_gap_of_offer(claim_offer.offer_id);
  select * into v_offer from slotoptim_private.offer as o
   where o.id = claim_offer.offer_id
     and (slotoptim_private.current_org() is null or o.org_id = slotoptim_private.current_org())
     for update;
  if v_offer.id is null then
    outcome := 'unknown';
  elsif v_offer.customer_id <> claim_offer.customer_id then
    outcome := 'not_yours';
  elsif v_offer.status = 'claimed' then
    outcome := 'already_yours';
    appointment_id := v_offer.appointment_id;
  elsif v_offer.status = 'awaiting_approval' then
    outcome := 'awaiting_approval';
  else
    select * into v_campaign from slotoptim_private.offer_campaign as c where c.id = v_offer.campaign_id for update;
    if v_offer.status = 'retracted' or v_gap.status in ('filled', 'merged', 'withdrawn') then
      outcome := 'filled';
    elsif v_offer.status in ('expired', 'declined') or v_offer.expires_at <= claim_offer.at
          or v_gap.status = 'expired' or lower(v_offer.slot) <= claim_offer.at then
      outcome := 'expired';
    elsif v_campaign.status = 'awaiting_approval' then
      outcome := 'being_confirmed';
    elsif v_campaign.strategy = 'staff_approval' then
      update slotoptim_private.offer as o set status = 'awaiting_approval', responded_at = claim_offer.at
       where o.id = v_offer.id;
      update slotoptim_private.offer_campaign as c
         set status = 'awaiting_approval', next_action_at = claim_offer.at,
             status_reason = format('awaiting approval: offer %s was claimed', v_offer.id)
       where c.id = v_campaign.id;
      outcome := 'awaiting_approval';
    else
      begin
        appointment_id := slotoptim_private.book_offer(v_offer.id, claim_offer.at);
        outcome := 'booked';
      exception
        when exclusion_violation then
          -- The calendar changed under the offer (a staff booking): the database refused it.
          update slotoptim_private.offer as o set status = 'retracted', responded_at = claim_offer.at
           where o.id = v_offer.id;
          outcome := 'filled';
      end;
    end if;
  end if;
  gap_id := v_offer.gap_id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.claim_offer(bigint, bigint, timestamptz) is
  'The customer says yes: books the offered slot if it is still theirs to take; returns the outcome.';

-- A staff member confirms (or refuses) a claim under the staff_approval strategy.
create or replace function slotoptim.decide_claim(offer_id bigint, approve boolean, at timestamptz default now())
returns table (outcome text, appointment_id bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(decide_claim.at);
  v_offer slotoptim_private.offer;
begin
  perform slotoptim_private.lock_gap_of_offer(decide_claim.offer_id);
  select * into v_offer from slotoptim_private.offer as o
   where o.id = decide_claim.offer_id
     and (slotoptim_private.current_org() is null or o.org_id = slotoptim_private.current_org())
     for update;
  if v_offer.id is null or v_offer.status <> 'awaiting_approval' then
    raise exception using errcode = 'check_violation',
      message = format('offer %s has no claim awaiting approval', decide_claim.offer_id);
  end if;
  if decide_claim.approve then
    begin
      appointment_id := slotoptim_private.book_offer(v_offer.id, decide_claim.at);
      outcome := 'booked';
    exception
      when exclusion_violation then
        update slotoptim_private.offer as o set status = 'retracted' where o.id = v_offer.id;
        outcome := 'filled';
    end;
  else
    update slotoptim_private.offer as o set status = 'declined' where o.id = v_offer.id;
    update slotoptim_private.offer_campaign as c
       set status = 'running', next_action_at = decide_claim.at,
           status_reason = format('running: staff refused the claim of offer %s', v_offer.id)
     where c.id = v_offer.campaign_id and c.status = 'awaiting_approval';
    outcome := 'refused';
  end if;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

-- The customer says no: the entry's history records it and the campaign may move on at once.
create or replace function slotoptim.decline_offer(offer_id bigint, customer_id bigint, at timestamptz default now())
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
  v_gap slotoptim_private.gap;
begin
  -- A gap a claim filled, whose offers the engine has yet to retract: this offer is as good as
  -- retracted, and a retracted offer cannot be declined.
  v_gap := slotoptim_private.lock_gap_of_offer(decline_offer.offer_id);
  if slotoptim_private.retraction_pending(v_gap.id) then
    return false;
  end if;
  update slotoptim_private.offer as o
     set status = 'declined', responded_at = decline_offer.at
   where o.id = decline_offer.offer_id and o.customer_id = decline_offer.customer_id and o.status = 'open'
     and (slotoptim_private.current_org() is null or o.org_id = slotoptim_private.current_org())
  returning * into v_offer;
  if v_offer.id is null then
    return false;
  end if;
  update slotoptim_private.waitlist_entry
     set offers_declined = offers_declined + 1, consecutive_ignored = 0
   where id = v_offer.waitlist_entry_id;
  update slotoptim_private.offer_campaign as c set next_action_at = decline_offer.at
   where c.id = v_offer.campaign_id and c.status = 'running'
     and not exists (select 1 from slotoptim_private.offer as o2 where o2.campaign_id = c.id and o2.status = 'open');
  return true;
end;
$$;

-- Up to three other live gaps the entry behind an offer qualifies for, soonest first: what a late
-- claimant is shown instead.
create or replace function slotoptim.alternatives(offer_id bigint, at timestamptz default now())
returns table (gap_id bigint, provider_key text, slot tstzrange, service_key text)
language sql
stable
set search_path = ''
as $$
  select g.id, p.key, r.slot, s.key
    from slotoptim_private.offer as o
    join slotoptim_private.gap as g
      on g.org_id = o.org_id and g.status in ('open', 'offering') and g.kind = 'bookable'
     and g.id <> o.gap_id and upper(g.during) > alternatives.at
    join slotoptim_private.provider as p on p.id = g.provider_id
    cross join lateral (
      select * from slotoptim_private.rank_candidates(g.id, alternatives.at) as rc
       where rc.waitlist_entry_id = o.waitlist_entry_id
    ) as r
    join slotoptim_private.service as s on s.id = r.service_id
   where o.id = alternatives.offer_id
   order by lower(r.slot)
   limit 3;
$$;

-- After a claim's commit (slotoptim_private.consume_gaps queued it): retracts the other offers of
-- one filled gap, as of the claim's time and in the claimant's name (the audit rows name the
-- claim's actor), and removes the queue row in the same transaction. SKIP LOCKED: engines running
-- side by side take different gaps. Returns the gap, or null when nothing is queued. It sets
-- slotoptim.actor for the rest of the transaction (audit rows take the actor when their statement
-- ends): a caller that goes on in the same transaction restores its own (slotoptim.tick does).
create or replace function slotoptim_private.retract_claimed_gap()
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_job slotoptim_private.offer_retraction;
begin
  select * into v_job from slotoptim_private.offer_retraction as r
   order by r.id
   limit 1
     for update skip locked;
  if v_job.id is null then
    return null;
  end if;
  perform pg_catalog.set_config('slotoptim.actor', coalesce(v_job.actor, ''), true);
  perform slotoptim_private.retract_offers(v_job.gap_id, v_job.kind, v_job.at);
  delete from slotoptim_private.offer_retraction as r where r.org_id = v_job.org_id and r.id = v_job.id;
  return v_job.gap_id;
end;
$$;

comment on function slotoptim_private.retract_claimed_gap() is
  'Retracts the other offers of one gap a claim filled (queued in offer_retraction), after the claim''s commit; returns the gap or null. For the engine.';
