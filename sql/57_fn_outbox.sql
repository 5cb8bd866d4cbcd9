-- The outbox protocol the sender follows: claim due messages (SKIP LOCKED, with a lease that a
-- crashed sender's claims outlive), then record the provider's id, or the failure.

-- Claims up to max_messages due messages for worker until at + lease. Messages whose customer
-- has opted out, or lost consent for the channel, are cancelled instead: consent is checked at send
-- time, not only when the offer was made. An offer's message whose offer is no longer open (expired,
-- claimed, retracted) is dropped as 'expired' rather than sent late, unless a provider call for it is
-- of unknown outcome (attempt_id set): the sender must first ask the provider whether it went out.
create or replace function slotoptim.claim_messages(worker text, max_messages integer, at timestamptz default now(),
                                                    lease interval default interval '60 seconds')
returns setof slotoptim_private.message
language plpgsql
volatile
set search_path = ''
as $$
begin
  update slotoptim_private.message as m
     set status = 'cancelled', last_error = 'no consent for this channel', locked_by = null, locked_until = null
    from slotoptim_private.customer as c
   where c.id = m.customer_id
     and m.attempt_id is null
     and (m.status = 'queued' or (m.status = 'sending' and m.locked_until < claim_messages.at))
     and m.not_before <= claim_messages.at
     -- consent_request is the "Reply YES to confirm" text: it asks for consent, so none is needed yet.
     and m.kind not in ('opt_out', 'opt_in', 'help', 'consent_request')
     and (c.opted_out_at is not null
          or (m.channel = 'sms' and not c.consent_sms)
          or (m.channel = 'whatsapp' and not c.consent_whatsapp)
          or (m.channel = 'email' and not c.consent_email));

  update slotoptim_private.message as m
     set status = 'expired', last_error = 'offer no longer open when due', locked_by = null, locked_until = null
    from slotoptim_private.offer as o
   where o.id = m.offer_id
     and m.kind = 'offer'
     and m.attempt_id is null
     and (m.status = 'queued' or (m.status = 'sending' and m.locked_until < claim_messages.at))
     and m.not_before <= claim_messages.at
     and (o.status <> 'open' or o.expires_at <= claim_messages.at);

  return query
  update slotoptim_private.message as m
     set status = 'sending', locked_by = claim_messages.worker,
         locked_until = claim_messages.at + claim_messages.lease, attempts = m.attempts + 1
   where m.id in (
     select d.id
       from slotoptim_private.message as d
      where ((d.status = 'queued' and d.not_before <= claim_messages.at)
             or (d.status = 'sending' and d.locked_until < claim_messages.at))
        -- A claim filled the offer's gap and the engine has yet to retract the offer (and cancel
        -- this message): never sent.
        and not exists (select 1 from slotoptim_private.offer as o
                         where o.id = d.offer_id and o.status in ('open', 'awaiting_approval')
                           and slotoptim_private.retraction_pending(o.gap_id))
      order by d.not_before, d.id
      limit claim_messages.max_messages
        for update skip locked)
  returning m.*;
end;
$$;

comment on function slotoptim.claim_messages(text, integer, timestamptz, interval) is
  'Claims due outbox messages for a sender (SKIP LOCKED, leased); cancels those without consent and '
  'drops offers no longer open as expired.';

-- Right before the provider call: this attempt's id (and the exact body) are committed first, so
-- whoever finds the row after a crash knows a call may have gone out. Extends the lease so that
-- no other sender takes the row while the call runs. False when the row is no longer this
-- worker's (its lease ended and another sender took it): then do not call the provider.
create or replace function slotoptim.message_attempt(message_id bigint, worker text, attempt_id uuid, body text,
                                                     at timestamptz default now(),
                                                     lease interval default interval '60 seconds')
returns boolean
language sql
volatile
set search_path = ''
as $$
  with attempted as (
    update slotoptim_private.message as m
       set attempt_id = message_attempt.attempt_id, attempt_started_at = message_attempt.at,
           body = coalesce(m.body, message_attempt.body),
           locked_until = greatest(m.locked_until, message_attempt.at + message_attempt.lease)
     where m.id = message_attempt.message_id and m.status = 'sending' and m.locked_by = message_attempt.worker
    returning 1
  )
  select exists (select 1 from attempted);
$$;

comment on function slotoptim.message_attempt(bigint, text, uuid, text, timestamptz, interval) is
  'Records a provider call about to start (its id and the body) before it is made; false if the row is '
  'no longer the worker''s.';

-- The provider call's outcome is unknown (a timeout after the request left, a 5xx): back to the
-- queue at retry_at with attempt_id kept, so the next try asks the provider before sending again.
-- counted => false when no new call was made (the provider could not even be asked): the try is not
-- one of the message's attempts.
create or replace function slotoptim.message_in_doubt(message_id bigint, error text, retry_at timestamptz,
                                                      counted boolean default true)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with doubted as (
    update slotoptim_private.message as m
       set status = 'queued', not_before = message_in_doubt.retry_at, last_error = message_in_doubt.error,
           attempts = case when message_in_doubt.counted then m.attempts else greatest(m.attempts - 1, 0) end,
           locked_by = null, locked_until = null
     where m.id = message_in_doubt.message_id and m.status = 'sending'
    returning 1
  )
  select exists (select 1 from doubted);
$$;

comment on function slotoptim.message_in_doubt(bigint, text, timestamptz, boolean) is
  'Requeues a message whose provider call had an unknown outcome; it is reconciled with the provider '
  'before any resend.';

-- Not sent, and not the message's fault: the provider asked us to slow down (429), or our own rate
-- limit held it back. Back to the queue at retry_at without using up one of its attempts. settled
-- => true when the provider refused this very call, so nothing of unknown outcome remains; false
-- keeps an earlier attempt's doubt (the row was held back before it could be reconciled).
create or replace function slotoptim.message_deferred(message_id bigint, error text, retry_at timestamptz,
                                                      settled boolean default true)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with deferred as (
    update slotoptim_private.message as m
       set status = 'queued', not_before = message_deferred.retry_at, last_error = message_deferred.error,
           attempts = greatest(m.attempts - 1, 0),
           attempt_id = case when message_deferred.settled then null else m.attempt_id end,
           attempt_started_at = case when message_deferred.settled then null else m.attempt_started_at end,
           locked_by = null, locked_until = null
     where m.id = message_deferred.message_id and m.status = 'sending'
    returning 1
  )
  select exists (select 1 from deferred);
$$;

comment on function slotoptim.message_deferred(bigint, text, timestamptz, boolean) is
  'Requeues a message that was not sent because of a rate limit, without counting an attempt.';

-- A message that may not go out any more (its offer expired while it waited, or a reconciliation
-- found it was never created and its offer has since expired).
create or replace function slotoptim.message_expired(message_id bigint, reason text)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with expired as (
    update slotoptim_private.message as m
       set status = 'expired', last_error = message_expired.reason, attempt_id = null,
           locked_by = null, locked_until = null
     where m.id = message_expired.message_id and m.status = 'sending'
    returning 1
  )
  select exists (select 1 from expired);
$$;

comment on function slotoptim.message_expired(bigint, text) is
  'Drops a message that is no longer worth sending (its offer expired), recording why.';

-- The message went out: record the provider's id (unique: the same id twice is refused).
create or replace function slotoptim.message_sent(message_id bigint, provider_id text, body text,
                                                  at timestamptz default now())
returns boolean
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.message as m
     set status = 'sent', provider_id = message_sent.provider_id, body = coalesce(message_sent.body, m.body),
         sent_at = message_sent.at, locked_by = null, locked_until = null, last_error = null, attempt_id = null
   where m.id = message_sent.message_id and m.status = 'sending'
  returning true;
$$;

-- Delivery status from the provider's callback (idempotent: a repeated status changes nothing).
create or replace function slotoptim.message_status(provider_id text, status text, at timestamptz default now())
returns boolean
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.message as m
     set status = case when message_status.status in ('delivered', 'read') then 'delivered'
                       when message_status.status in ('undelivered', 'failed') then 'undelivered'
                       else m.status end,
         delivered_at = case when message_status.status in ('delivered', 'read')
                             then coalesce(m.delivered_at, message_status.at) else m.delivered_at end
   where m.provider_id = message_status.provider_id
  returning true;
$$;

-- The send failed. Transient: retry at p_retry_at until the organisation's attempt limit.
-- Permanent (or out of attempts): failed, and an offer falls back to the customer's next channel
-- with consent (sms -> whatsapp -> email). An unsubscribed recipient is opted out everywhere.
create or replace function slotoptim.message_failed(message_id bigint, error text, permanent boolean,
                                                    retry_at timestamptz, opt_out boolean default false,
                                                    at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_message slotoptim_private.message;
  v_limit integer;
  v_next text;
  v_customer slotoptim_private.customer;
begin
  select m.* into v_message from slotoptim_private.message as m where m.id = message_failed.message_id for update;
  if v_message.id is null or v_message.status <> 'sending' then
    return 'ignored';
  end if;
  select st.message_max_attempts into v_limit
    from slotoptim_private.organisation_settings as st where st.org_id = v_message.org_id;
  if not message_failed.permanent and v_message.attempts < v_limit then
    update slotoptim_private.message as m
       set status = 'queued', not_before = message_failed.retry_at, last_error = message_failed.error,
           locked_by = null, locked_until = null, attempt_id = null
     where m.id = v_message.id;
    return 'retry';
  end if;

  update slotoptim_private.message as m
     set status = 'failed', last_error = message_failed.error, locked_by = null, locked_until = null,
         attempt_id = null
   where m.id = v_message.id;
  if message_failed.opt_out then
    perform slotoptim_private.opt_out(v_message.customer_id, message_failed.at);
    return 'opted_out';
  end if;

  select c.* into v_customer from slotoptim_private.customer as c where c.id = v_message.customer_id;
  v_next := case
    when v_message.channel = 'sms' and v_customer.consent_whatsapp and v_customer.phone is not null then 'whatsapp'
    when v_message.channel in ('sms', 'whatsapp') and v_customer.consent_email and v_customer.email is not null then 'email'
  end;
  if v_next is null or v_customer.opted_out_at is not null then
    return 'failed';
  end if;
  insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, not_before, created_at)
  values (v_message.org_id, v_message.customer_id, v_message.offer_id, v_message.kind, v_next,
          case when v_next = 'email' then v_customer.email else v_customer.phone end, message_failed.at, message_failed.at);
  if v_message.offer_id is not null then
    update slotoptim_private.offer as o set channel = v_next where o.id = v_message.offer_id;
  end if;
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
    pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'message_id', v_message.id)::text);
  return 'fallback:' || v_next;
end;
$$;

-- STOP: the customer is opted out of every channel at once, and nothing queued for them is sent.
create or replace function slotoptim_private.opt_out(p_customer_id bigint, p_at timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.customer set opted_out_at = coalesce(opted_out_at, p_at) where id = p_customer_id;
  update slotoptim_private.message
     set status = 'cancelled', last_error = 'customer opted out', locked_by = null, locked_until = null
   where customer_id = p_customer_id and status = 'queued' and kind not in ('opt_out', 'opt_in', 'help');
  update slotoptim_private.offer set status = 'retracted' where customer_id = p_customer_id and status = 'open';
  update slotoptim_private.waitlist_entry set status = 'paused' where customer_id = p_customer_id and status = 'active';
$$;

-- An inbound text from a phone number, already classified (stop, start, help, yes, here, other).
-- Returns what was done and, for "yes", the claim outcome. Every customer with that number in the
-- organisation is affected (one phone can belong to a family).
create or replace function slotoptim.inbound_text(org_id bigint, from_phone text, intent text,
                                                  at timestamptz default now())
returns table (action text, offer_id bigint, outcome text, appointment_id bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_customer slotoptim_private.customer;
  v_offer_id bigint;
  v_claim record;
  v_gate text;
  v_entry_id bigint;
begin
  select c.* into v_customer from slotoptim_private.customer as c
   where c.org_id = inbound_text.org_id and c.phone = inbound_text.from_phone
   order by c.id limit 1;
  if v_customer.id is null then
    action := 'unknown_number';
    return next;
    return;
  end if;

  if inbound_text.intent = 'stop' then
    perform slotoptim_private.opt_out(c.id, inbound_text.at)
       from slotoptim_private.customer as c
      where c.org_id = inbound_text.org_id and c.phone = inbound_text.from_phone;
    action := 'opted_out';
  elsif inbound_text.intent = 'start' then
    update slotoptim_private.customer as c set opted_out_at = null, consent_sms = true
     where c.org_id = inbound_text.org_id and c.phone = inbound_text.from_phone;
    update slotoptim_private.waitlist_entry as w set status = 'active'
      from slotoptim_private.customer as c
     where c.id = w.customer_id and c.org_id = inbound_text.org_id and c.phone = inbound_text.from_phone
       and w.status = 'paused';
    action := 'opted_in';
  elsif inbound_text.intent = 'yes' then
    -- YES claims the latest open offer sent to this number.
    select o.id into v_offer_id
      from slotoptim_private.offer as o
      join slotoptim_private.customer as c on c.id = o.customer_id
     where c.org_id = inbound_text.org_id and c.phone = inbound_text.from_phone
       and o.status = 'open' and o.send_at <= inbound_text.at and o.channel in ('sms', 'whatsapp')
     -- An offer of a gap a claim just filled (the engine has yet to retract it) comes last, as if
     -- retracted already; alone, its claim answers "filled".
     order by slotoptim_private.retraction_pending(o.gap_id), o.send_at desc, o.id desc
     limit 1;
    if v_offer_id is null then
      action := 'no_open_offer';
    else
      -- Payments hook (issue 13): a protected booking is paid through the claim link, never by text.
      v_gate := slotoptim.offer_payment_gate(v_offer_id, inbound_text.at);
      if v_gate is not null then
        action := 'claim';
        offer_id := v_offer_id;
        outcome := v_gate;
      else
        select * into v_claim from slotoptim.claim_offer(
          v_offer_id, (select o.customer_id from slotoptim_private.offer as o where o.id = v_offer_id), inbound_text.at);
        action := 'claim';
        offer_id := v_offer_id;
        outcome := v_claim.outcome;
        appointment_id := v_claim.appointment_id;
      end if;
    end if;
  elsif inbound_text.intent = 'here' then
    -- HERE checks the customer in for their appointment of the day (the check-in queue).
    v_entry_id := slotoptim_private.queue_check_in_by_phone(inbound_text.org_id, inbound_text.from_phone, inbound_text.at);
    appointment_id := (select e.appointment_id from slotoptim_private.queue_entry as e where e.id = v_entry_id);
    action := case when appointment_id is null then 'no_appointment_today' else 'checked_in' end;
  elsif inbound_text.intent = 'help' then
    action := 'help';
  else
    action := 'other';
  end if;
  return next;
end;
$$;
