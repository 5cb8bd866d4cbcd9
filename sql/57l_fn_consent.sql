-- Consent: the history trigger, double opt-in for texts, and revocation of every channel at once.
--
-- Whoever changes a customer's consent (the booking page, an SMS reply, staff through the API, the
-- import, STOP), the trigger below writes slotoptim_private.consent_event. The source and the
-- wording version come from the transaction settings slotoptim.consent_source and
-- slotoptim.consent_wording when the caller set them (the functions of this file do), else from
-- the session's actor (staff through the API: 'staff'; Twilio's inbound webhook: 'sms_reply').

-- Where the current change of consent comes from.
create or replace function slotoptim_private.consent_source()
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('slotoptim.consent_source', true), ''),
    case
      when a.actor ->> 'kind' in ('api_key', 'user') then 'staff'
      when a.actor ->> 'id' = 'twilio-inbound' then 'sms_reply'
      when a.actor ->> 'id' = 'twilio-status' then 'carrier'
      when a.actor ->> 'id' ~ '^[a-z][a-z0-9_-]{0,63}$' then a.actor ->> 'id'
    end,
    'system')
    from (select nullif(pg_catalog.current_setting('slotoptim.actor', true), '')::jsonb as actor) as a;
$$;

comment on function slotoptim_private.consent_source() is
  'The source recorded with a consent change: the transaction''s slotoptim.consent_source, else derived from the actor.';

-- Sets the source and wording version the history records for the rest of the transaction.
create or replace function slotoptim_private.consent_context(p_source text, p_wording text)
returns void
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.set_config('slotoptim.consent_source', coalesce(p_source, ''), true),
         pg_catalog.set_config('slotoptim.consent_wording', coalesce(p_wording, ''), true);
$$;

comment on function slotoptim_private.consent_context(text, text) is
  'Names the source and wording version of the consent changes that follow in this transaction.';

create or replace function slotoptim_private.consent_history()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_source text := slotoptim_private.consent_source();
  v_wording text := nullif(pg_catalog.current_setting('slotoptim.consent_wording', true), '');
  v_actor jsonb := nullif(pg_catalog.current_setting('slotoptim.actor', true), '')::jsonb;
  v_at timestamptz := slotoptim_private.clock();
  v_old slotoptim_private.customer;
begin
  if tg_op = 'UPDATE' then
    v_old := old;
  end if;
  insert into slotoptim_private.consent_event (org_id, customer_id, channel, action, source, wording_version, actor, at)
  select new.org_id, new.id, ch.channel, case when ch.now_on then 'granted' else 'revoked' end,
         v_source, case when ch.now_on then v_wording end, v_actor, v_at
    from (values ('sms', new.consent_sms, v_old.consent_sms),
                 ('whatsapp', new.consent_whatsapp, v_old.consent_whatsapp),
                 ('email', new.consent_email, v_old.consent_email)) as ch(channel, now_on, was_on)
   where ch.now_on is distinct from coalesce(ch.was_on, false);
  -- STOP and friends: every channel at once; lifting it (START) is recorded as such.
  if new.opted_out_at is not null and v_old.opted_out_at is null then
    insert into slotoptim_private.consent_event (org_id, customer_id, channel, action, source, actor, at)
    values (new.org_id, new.id, 'all', 'revoked', v_source, v_actor, v_at);
    -- A pending "Reply YES" request dies with it: a later YES must not undo the STOP.
    update slotoptim_private.consent_request as r set status = 'revoked', decided_at = v_at
     where r.customer_id = new.id and r.status = 'pending';
  elsif new.opted_out_at is null and v_old.opted_out_at is not null then
    insert into slotoptim_private.consent_event (org_id, customer_id, channel, action, source, wording_version, actor, at)
    values (new.org_id, new.id, 'all', 'granted', v_source, v_wording, v_actor, v_at);
  end if;
  return null;
end;
$$;

comment on function slotoptim_private.consent_history() is
  'Trigger: records every change of a customer''s consent or opt-out in slotoptim_private.consent_event.';

create or replace trigger customer_consent_history
  after insert or update of consent_sms, consent_whatsapp, consent_email, opted_out_at
  on slotoptim_private.customer
  for each row execute function slotoptim_private.consent_history();

-- Asks a customer to confirm texts ("Reply YES to confirm"): a pending request, its history row,
-- and the text itself in the outbox (its body rendered by the caller, in the customer's language).
-- Nothing is asked of a customer whose texts are already confirmed and not opted out; returns the
-- request's id, or null when nothing was asked.
create or replace function slotoptim.request_text_consent(customer_id bigint, body text, source text,
                                                          wording_version text, at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_customer slotoptim_private.customer;
  v_id bigint;
begin
  select * into v_customer from slotoptim_private.customer as c
   where c.id = request_text_consent.customer_id
     and (slotoptim_private.current_org() is null or c.org_id = slotoptim_private.current_org());
  if v_customer.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown customer %s', request_text_consent.customer_id);
  end if;
  if v_customer.phone is null then
    raise exception using errcode = 'check_violation', message = 'phone: texts need a phone number';
  end if;
  if v_customer.consent_sms and v_customer.opted_out_at is null then
    return null;
  end if;
  -- A new request replaces a pending one (the latest wording is the one confirmed).
  update slotoptim_private.consent_request as r set status = 'expired', decided_at = request_text_consent.at
   where r.customer_id = v_customer.id and r.channel = 'sms' and r.status = 'pending';
  insert into slotoptim_private.consent_request (org_id, customer_id, channel, source, wording_version, requested_at, expires_at)
  values (v_customer.org_id, v_customer.id, 'sms', request_text_consent.source, request_text_consent.wording_version,
          request_text_consent.at, request_text_consent.at + interval '72 hours')
  returning id into v_id;
  insert into slotoptim_private.consent_event (org_id, customer_id, channel, action, source, wording_version, actor, at)
  values (v_customer.org_id, v_customer.id, 'sms', 'requested', request_text_consent.source,
          request_text_consent.wording_version, nullif(pg_catalog.current_setting('slotoptim.actor', true), '')::jsonb,
          request_text_consent.at);
  insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, body, not_before, created_at)
  values (v_customer.org_id, v_customer.id, 'consent_request', 'sms', v_customer.phone, request_text_consent.body,
          request_text_consent.at, request_text_consent.at);
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
    pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'consent_request_id', v_id)::text);
  return v_id;
end;
$$;

comment on function slotoptim.request_text_consent(bigint, text, text, text, timestamptz) is
  'Double opt-in: records a pending SMS consent request and queues its "Reply YES to confirm" text; null when texts are already confirmed.';

-- A YES from a phone with a pending request: the customers of that phone in the organisation get
-- texts (a customer who had opted out gets texts back, and only texts: other channels need their
-- own consent again). Returns how many requests were confirmed (0: none pending, let YES claim).
create or replace function slotoptim.confirm_text_consent(org_id bigint, from_phone text, at timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(confirm_text_consent.at);
  v_request record;
  v_count integer := 0;
begin
  for v_request in
    select r.id, r.customer_id, r.wording_version
      from slotoptim_private.consent_request as r
      join slotoptim_private.customer as c on c.id = r.customer_id
     where r.org_id = confirm_text_consent.org_id and c.phone = confirm_text_consent.from_phone
       and r.status = 'pending' and r.expires_at > confirm_text_consent.at
     order by r.id
       for update of r
  loop
    perform slotoptim_private.consent_context('sms_reply', v_request.wording_version);
    update slotoptim_private.customer as c
       set consent_sms = true,
           consent_whatsapp = c.consent_whatsapp and c.opted_out_at is null,
           consent_email = c.consent_email and c.opted_out_at is null,
           opted_out_at = null
     where c.id = v_request.customer_id;
    update slotoptim_private.consent_request as r set status = 'confirmed', decided_at = confirm_text_consent.at
     where r.id = v_request.id;
    -- Waiting-list entries paused by an earlier STOP wake up with the consent.
    update slotoptim_private.waitlist_entry as w set status = 'active'
     where w.customer_id = v_request.customer_id and w.status = 'paused' and w.closes_at is null;
    v_count := v_count + 1;
  end loop;
  perform slotoptim_private.consent_context(null, null);
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return v_count;
end;
$$;

comment on function slotoptim.confirm_text_consent(bigint, text, timestamptz) is
  'A YES reply confirms the pending SMS consent requests of that phone in the organisation; returns how many.';

-- Which organisations have a pending text consent request for a phone (the webhook routes YES there first).
create or replace function slotoptim.pending_text_consent_orgs(phone text, at timestamptz default now())
returns setof bigint
language sql
stable
set search_path = ''
as $$
  select distinct r.org_id
    from slotoptim_private.consent_request as r
    join slotoptim_private.customer as c on c.id = r.customer_id
   where c.phone = pending_text_consent_orgs.phone and r.status = 'pending'
     and r.expires_at > pending_text_consent_orgs.at
   order by 1;
$$;

comment on function slotoptim.pending_text_consent_orgs(text, timestamptz) is
  'Organisations where a phone has a pending "Reply YES to confirm" request.';

-- Email consent from a page the customer filled in themselves (single opt-in: the address is theirs
-- to type; every message carries a way out).
create or replace function slotoptim.grant_email_consent(customer_id bigint, source text, wording_version text,
                                                         at timestamptz default now())
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(grant_email_consent.at);
  v_changed boolean;
begin
  perform slotoptim_private.consent_context(grant_email_consent.source, grant_email_consent.wording_version);
  update slotoptim_private.customer as c set consent_email = true
   where c.id = grant_email_consent.customer_id and c.email is not null and not c.consent_email
     and c.opted_out_at is null
     and (slotoptim_private.current_org() is null or c.org_id = slotoptim_private.current_org());
  v_changed := found;
  perform slotoptim_private.consent_context(null, null);
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return v_changed;
end;
$$;

comment on function slotoptim.grant_email_consent(bigint, text, text, timestamptz) is
  'Records email consent given on a page by the customer (with source and wording version); false when nothing changed.';

-- Revocation by any means (a page, an email link, staff told on the phone): every channel at once,
-- exactly like STOP. Returns false for an unknown customer.
create or replace function slotoptim.revoke_consent(customer_id bigint, source text, at timestamptz default now())
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
  v_previous_clock text;
begin
  select c.id into v_id from slotoptim_private.customer as c
   where c.id = revoke_consent.customer_id
     and (slotoptim_private.current_org() is null or c.org_id = slotoptim_private.current_org());
  if v_id is null then
    return false;
  end if;
  v_previous_clock := slotoptim_private.set_clock(revoke_consent.at);
  perform slotoptim_private.consent_context(revoke_consent.source, null);
  perform slotoptim_private.opt_out(v_id, revoke_consent.at);
  perform slotoptim_private.consent_context(null, null);
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return true;
end;
$$;

comment on function slotoptim.revoke_consent(bigint, text, timestamptz) is
  'Revokes consent on every channel (as STOP does), recording the source; false for an unknown customer.';

-- The consent history of the current organisation, newest first, for staff and auditors.
create or replace view slotoptim.consent_history with (security_invoker = true) as
select o.key as org_key,
       c.key as customer_key,
       e.channel,
       e.action,
       e.source,
       e.wording_version,
       e.actor ->> 'kind' as actor_kind,
       e.at
  from slotoptim_private.consent_event as e
  join slotoptim_private.customer as c on c.id = e.customer_id
  join slotoptim_private.organisation as o on o.id = e.org_id;

comment on view slotoptim.consent_history is 'Every consent request, grant and revocation, with time, source and wording version.';
comment on column slotoptim.consent_history.org_key is 'the organisation';
comment on column slotoptim.consent_history.customer_key is 'the customer';
comment on column slotoptim.consent_history.channel is 'sms, whatsapp, email, or all (an opt-out of every channel, or its lifting)';
comment on column slotoptim.consent_history.action is 'requested (double opt-in sent), granted or revoked';
comment on column slotoptim.consent_history.source is 'where it came from: booking_page, sms_reply, staff, claim_page, email_link, system...';
comment on column slotoptim.consent_history.wording_version is 'the version of the consent text the customer saw';
comment on column slotoptim.consent_history.actor_kind is 'api_key, user or system';
comment on column slotoptim.consent_history.at is 'when';
