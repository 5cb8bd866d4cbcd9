-- Self-service booking (/book/{org}): the customer of a public page, booking an opening through
-- the claim transaction every claim link uses, and what happens to their other waitlist entries.
--
-- A booking from the page is an offer made and claimed at once: the opening's live gap (or a new
-- one covering exactly the slot and its buffer), its live campaign (or a new one in the
-- organisation's strategy), a paused waitlist entry that records what was asked for, an offer,
-- then slotoptim.claim_offer. The appointment insert inside it is the final arbiter (the exclusion
-- constraint); the caller runs all of it in one transaction and rolls it back unless the outcome
-- is booked or awaiting_approval, so a lost race leaves nothing behind.

-- The customer behind a page's form: the organisation's customer with that phone (or, without a
-- phone, that email) and that name, else a new one. Contact details of an existing customer are
-- never changed from a public page (whoever knows a name and a number must not redirect texts).
create or replace function slotoptim.self_service_customer(name text, phone text, email text, timezone text,
                                                           language text, at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org bigint := slotoptim_private.current_org();
  v_id bigint;
begin
  if v_org is null then
    raise exception using errcode = 'insufficient_privilege', message = 'no organisation is set';
  end if;
  select c.id into v_id from slotoptim_private.customer as c
   where c.org_id = v_org
     and lower(btrim(c.name)) = lower(btrim(self_service_customer.name))
     and ((self_service_customer.phone is not null and c.phone = self_service_customer.phone)
          or (self_service_customer.phone is null and c.email is not null
              and lower(c.email) = lower(self_service_customer.email)))
   order by c.id
   limit 1;
  if v_id is not null then
    return v_id;
  end if;
  insert into slotoptim_private.customer (org_id, key, name, phone, email, timezone, language, created_at)
  values (v_org, 'web-' || pg_catalog.left(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 16), btrim(self_service_customer.name),
          self_service_customer.phone, self_service_customer.email, self_service_customer.timezone,
          self_service_customer.language, self_service_customer.at)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function slotoptim.self_service_customer(text, text, text, text, text, timestamptz) is
  'The customer a public page''s form names: the one with that name and phone (or email), else a new one; never changes an existing customer''s details.';

-- What a booking from the page adds once its offer is claimed, whether at once (book_opening) or
-- after Stripe Checkout (payment_checkout_booked, sql/67m_fn_payment_checkout.sql): the
-- appointment's source is 'booking_page' when it is the time the customer picked, and "earlier if
-- possible" enrols it in move-up (issue 12). book_opening notes both on the offer it books
-- (score_detail.booking_page: starts, earlier); an offer without that note is left alone.
create or replace function slotoptim_private.booking_page_booked(p_offer_id bigint, p_appointment_id bigint,
                                                                 p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_page jsonb;
  v_appointment slotoptim_private.appointment;
begin
  select o.score_detail -> 'booking_page' into v_page from slotoptim_private.offer as o where o.id = p_offer_id;
  select * into v_appointment from slotoptim_private.appointment as a where a.id = p_appointment_id;
  if v_page is null or v_appointment.id is null then
    return;
  end if;
  if v_appointment.source = 'waitlist' and lower(v_appointment.period) = (v_page ->> 'starts')::timestamptz then
    update slotoptim_private.appointment as a set source = 'booking_page' where a.id = v_appointment.id;
  end if;
  -- A paid booking is confirmed later: by then the appointment may have begun (nothing to move).
  if coalesce((v_page ->> 'earlier')::boolean, false) and v_appointment.status in ('booked', 'confirmed')
     and lower(v_appointment.period) > p_at then
    perform slotoptim.enrol_moveup(v_appointment.id, p_at);
  end if;
end;
$$;

-- book_opening gained `earlier` (with a default): the five-argument form is replaced, not overloaded.
drop function if exists slotoptim.book_opening(text, text, timestamptz, bigint, timestamptz);

-- Books one opening for a customer through slotoptim.claim_offer. Outcomes are claim_offer's
-- (booked, awaiting_approval, being_confirmed, filled, expired, already_yours); 'filled' also
-- when the time is no longer free. offer_id names the offer made (its claim link shows the booking).
-- `earlier`: the customer ticked "earlier if possible" (the booked appointment is enrolled in
-- move-up, now or when Stripe confirms a protected booking).
create or replace function slotoptim.book_opening(provider_key text, service_key text, starts timestamptz,
                                                  customer_id bigint, at timestamptz default now(),
                                                  earlier boolean default false)
returns table (outcome text, appointment_id bigint, offer_id bigint, gap_id bigint, offer_expires_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(book_opening.at);
  v_org bigint := slotoptim_private.current_org();
  v_provider slotoptim_private.provider;
  v_service slotoptim_private.service;
  v_settings slotoptim_private.organisation_settings;
  v_blocked tstzrange;
  v_slot tstzrange;
  v_gap slotoptim_private.gap;
  v_campaign slotoptim_private.offer_campaign;
  v_offer slotoptim_private.offer;
  v_entry_id bigint;
  v_channel text;
  v_claim record;
  v_page jsonb;
begin
  select * into v_provider from slotoptim_private.provider as p
   where p.org_id = v_org and p.key = book_opening.provider_key and p.active;
  if v_provider.id is null then
    raise exception using errcode = 'no_data_found', message = format('provider: unknown provider %s', book_opening.provider_key);
  end if;
  select s.* into v_service from slotoptim_private.service as s
    join slotoptim_private.provider_service as ps on ps.service_id = s.id and ps.provider_id = v_provider.id
   where s.org_id = v_org and s.key = book_opening.service_key and s.active;
  if v_service.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('service: %s is not offered by %s', book_opening.service_key, book_opening.provider_key);
  end if;
  select * into v_settings from slotoptim_private.organisation_settings as st where st.org_id = v_org;
  gap_id := null;
  if book_opening.starts <= book_opening.at then
    outcome := 'expired';
    perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
    return next;
    return;
  end if;
  v_slot := pg_catalog.tstzrange(book_opening.starts,
                                 book_opening.starts + pg_catalog.make_interval(mins => v_service.minutes), '[)');
  v_blocked := pg_catalog.tstzrange(book_opening.starts, book_opening.starts + pg_catalog.make_interval(
                 mins => v_service.minutes + slotoptim_private.buffer_after(v_service.id, v_provider.id,
                                                                            book_opening.customer_id, book_opening.starts)),
                 '[)');
  -- Still free: the slot and its buffer lie in one bookable stretch of the provider's time.
  if not exists (
    select 1 from slotoptim_private.gaps_of(array[v_provider.id], v_blocked) as g
     where g.kind = 'bookable' and g.during @> v_blocked
  ) then
    outcome := 'filled';
    perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
    return next;
    return;
  end if;

  select * into v_gap from slotoptim_private.gap as g
   where g.provider_id = v_provider.id and g.status in ('open', 'offering') and g.during && v_blocked
   order by lower(g.during)
   limit 1
     for update;
  if v_gap.id is null then
    begin
      insert into slotoptim_private.gap (org_id, provider_id, during, kind, fits, status, opened_at)
      values (v_org, v_provider.id, v_blocked, 'bookable', array[v_service.key], 'offering', book_opening.at)
      returning * into v_gap;
    exception
      when exclusion_violation then
        -- Another booking of this time made its gap first (without Redis, nothing held it back).
        outcome := 'being_confirmed';
        perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
        return next;
        return;
    end;
  end if;
  gap_id := v_gap.id;

  select * into v_campaign from slotoptim_private.offer_campaign as c
   where c.gap_id = v_gap.id and c.status in ('running', 'awaiting_approval')
     for update;
  if v_campaign.id is null then
    insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, status, wave, started_at, wave_started_at)
    values (v_org, v_gap.id, v_settings.offer_strategy, 'running', 1, book_opening.at, book_opening.at)
    returning * into v_campaign;
    update slotoptim_private.gap as g set status = 'offering' where g.id = v_gap.id and g.status = 'open';
  end if;

  -- What the customer picked and ticked, kept with the offer for whoever claims it (now, or
  -- Stripe's webhook after Checkout): slotoptim_private.booking_page_booked.
  v_page := pg_catalog.jsonb_build_object('starts', book_opening.starts, 'earlier', book_opening.earlier);
  select * into v_offer from slotoptim_private.offer as o
   where o.campaign_id = v_campaign.id and o.customer_id = book_opening.customer_id;
  if v_offer.id is null then
    select case when c.consent_sms and c.phone is not null then 'sms'
                when c.consent_email and c.email is not null then 'email'
                when c.phone is not null then 'sms'
                else 'email' end
      into v_channel
      from slotoptim_private.customer as c where c.id = book_opening.customer_id;
    -- What was asked for, kept like a waitlist entry (paused: the engine never offers it anything).
    insert into slotoptim_private.waitlist_entry (org_id, customer_id, status, service_ids, provider_ids,
                                                  earliest_date, latest_date, lead_time_minutes, offers_received,
                                                  added_at, updated_at)
    values (v_org, book_opening.customer_id, 'paused', array[v_service.id], array[v_provider.id],
            null, null, 0, 1, book_opening.at, book_opening.at)
    returning id into v_entry_id;
    insert into slotoptim_private.offer (org_id, campaign_id, gap_id, waitlist_entry_id, customer_id, service_id, slot,
                                         wave, score, score_detail, channel, status, created_at, send_at, expires_at)
    values (v_org, v_campaign.id, v_gap.id, v_entry_id, book_opening.customer_id, v_service.id, v_slot,
            greatest(v_campaign.wave, 1), 100,
            pg_catalog.jsonb_build_object('source', 'booking_page', 'booking_page', v_page), v_channel, 'open',
            book_opening.at, book_opening.at,
            book_opening.at + pg_catalog.make_interval(secs => v_settings.claim_hold_seconds))
    returning * into v_offer;
  else
    update slotoptim_private.offer as o
       set score_detail = o.score_detail || pg_catalog.jsonb_build_object('booking_page', v_page)
     where o.id = v_offer.id;
  end if;
  offer_id := v_offer.id;
  offer_expires_at := v_offer.expires_at;

  -- Payments (issue 13): a protected booking is not claimed here. The offer stays open for the
  -- customer's Checkout (the page takes it there); Stripe's webhook claims it as it does claim links.
  outcome := slotoptim.offer_payment_gate(v_offer.id, book_opening.at);
  if outcome is not null then
    perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
    return next;
    return;
  end if;

  select * into v_claim from slotoptim.claim_offer(v_offer.id, book_opening.customer_id, book_opening.at);
  outcome := v_claim.outcome;
  appointment_id := v_claim.appointment_id;
  if outcome = 'booked' then
    perform slotoptim_private.booking_page_booked(v_offer.id, v_claim.appointment_id, book_opening.at);
  end if;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.book_opening(text, text, timestamptz, bigint, timestamptz, boolean) is
  'Books an opening from the public booking page through slotoptim.claim_offer (an offer made and claimed at once); returns the claim''s outcome, or payment_required (offer left open for Checkout) / being_confirmed from slotoptim.offer_payment_gate. earlier: enrol the booking in move-up.';

-- Waitlist deduplication (seed 003, edge case 8): when a customer's offer is claimed, their other
-- active entries for the same service close after the organisation's waitlist_dedup_after unless
-- the customer asks to keep them (slotoptim.keep_waitlist_entries).
create or replace function slotoptim_private.offer_claimed_dedup()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
begin
  update slotoptim_private.waitlist_entry as w
     set closes_at = slotoptim_private.clock() + st.waitlist_dedup_after
    from slotoptim_private.organisation_settings as st
   where st.org_id = new.org_id
     and w.customer_id = new.customer_id and w.status = 'active' and w.closes_at is null
     and w.id <> new.waitlist_entry_id and new.service_id = any (w.service_ids);
  return null;
end;
$$;

comment on function slotoptim_private.offer_claimed_dedup() is
  'Trigger: a claimed offer schedules the closing of the customer''s other active entries for that service.';

create or replace trigger offer_claimed_dedup
  after update of status on slotoptim_private.offer
  for each row when (new.status = 'claimed' and old.status is distinct from 'claimed')
  execute function slotoptim_private.offer_claimed_dedup();

-- The customer answers "keep my other requests": their entries scheduled to close stay open.
create or replace function slotoptim.keep_waitlist_entries(customer_id bigint)
returns integer
language sql
volatile
set search_path = ''
as $$
  with kept as (
    update slotoptim_private.waitlist_entry as w set closes_at = null
     where w.customer_id = keep_waitlist_entries.customer_id and w.closes_at is not null and w.status = 'active'
       and (slotoptim_private.current_org() is null or w.org_id = slotoptim_private.current_org())
    returning 1
  )
  select count(*)::integer from kept;
$$;

comment on function slotoptim.keep_waitlist_entries(bigint) is
  'The customer keeps the waitlist entries that were to close after their booking; returns how many.';

-- The customer answers "remove them now": their entries scheduled to close close at once.
create or replace function slotoptim.close_waitlist_entries_now(customer_id bigint, at timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$
  with closed as (
    update slotoptim_private.waitlist_entry as w set status = 'cancelled', updated_at = close_waitlist_entries_now.at
     where w.customer_id = close_waitlist_entries_now.customer_id and w.closes_at is not null and w.status = 'active'
       and (slotoptim_private.current_org() is null or w.org_id = slotoptim_private.current_org())
    returning 1
  )
  select count(*)::integer from closed;
$$;

comment on function slotoptim.close_waitlist_entries_now(bigint, timestamptz) is
  'The customer removes at once the waitlist entries that were to close after their booking; returns how many.';

-- The engine's sweep: entries whose closing time has come are cancelled. Returns how many.
create or replace function slotoptim.close_superseded_entries(at timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$
  with closed as (
    update slotoptim_private.waitlist_entry as w set status = 'cancelled', updated_at = close_superseded_entries.at
     where w.status = 'active' and w.closes_at <= close_superseded_entries.at
       and (slotoptim_private.current_org() is null or w.org_id = slotoptim_private.current_org())
    returning 1
  )
  select count(*)::integer from closed;
$$;

comment on function slotoptim.close_superseded_entries(timestamptz) is
  'Cancels the waitlist entries whose post-booking closing time has come (run by the engine each pass); returns how many.';

-- A customer's entries that close after a booking unless kept, for the claim page's question.
create or replace function slotoptim.entries_closing(customer_id bigint)
returns table (entries integer, closes_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select count(*)::integer, min(w.closes_at)
    from slotoptim_private.waitlist_entry as w
   where w.customer_id = entries_closing.customer_id and w.status = 'active' and w.closes_at is not null
     and (slotoptim_private.current_org() is null or w.org_id = slotoptim_private.current_org());
$$;

comment on function slotoptim.entries_closing(bigint) is
  'How many of a customer''s waitlist entries close after their booking unless kept, and when the first closes.';

-- The public page's waitlist sign-up: one active entry per customer, service and provider choice
-- (signing up again updates its preferences rather than queueing the customer twice). Returns the
-- entry's id.
create or replace function slotoptim.join_waitlist_from_page(customer_id bigint, service_key text, provider_key text,
                                                             days integer[], window_start time, window_end time,
                                                             earliest date, latest date, at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org bigint := slotoptim_private.current_org();
  v_service_id bigint;
  v_provider_id bigint;
  v_id bigint;
begin
  select s.id into v_service_id from slotoptim_private.service as s
   where s.org_id = v_org and s.key = join_waitlist_from_page.service_key and s.active;
  if v_service_id is null then
    raise exception using errcode = 'no_data_found', message = format('service: unknown service %s', join_waitlist_from_page.service_key);
  end if;
  if join_waitlist_from_page.provider_key is not null then
    select p.id into v_provider_id from slotoptim_private.provider as p
      join slotoptim_private.provider_service as ps on ps.provider_id = p.id and ps.service_id = v_service_id
     where p.org_id = v_org and p.key = join_waitlist_from_page.provider_key and p.active;
    if v_provider_id is null then
      raise exception using errcode = 'no_data_found',
        message = format('provider: %s does not offer %s', join_waitlist_from_page.provider_key, join_waitlist_from_page.service_key);
    end if;
  end if;
  update slotoptim_private.waitlist_entry as w
     set preferred_days = join_waitlist_from_page.days::smallint[],
         window_start = join_waitlist_from_page.window_start, window_end = join_waitlist_from_page.window_end,
         earliest_date = join_waitlist_from_page.earliest, latest_date = join_waitlist_from_page.latest,
         closes_at = null, updated_at = join_waitlist_from_page.at
   where w.customer_id = join_waitlist_from_page.customer_id and w.status = 'active'
     and w.service_ids = array[v_service_id]
     and w.provider_ids is not distinct from case when v_provider_id is null then null else array[v_provider_id] end
  returning w.id into v_id;
  if v_id is null then
    insert into slotoptim_private.waitlist_entry (org_id, customer_id, status, service_ids, provider_ids, preferred_days,
                                                  window_start, window_end, earliest_date, latest_date, added_at, updated_at)
    values (v_org, join_waitlist_from_page.customer_id, 'active', array[v_service_id],
            case when v_provider_id is null then null else array[v_provider_id] end,
            join_waitlist_from_page.days::smallint[], join_waitlist_from_page.window_start, join_waitlist_from_page.window_end,
            join_waitlist_from_page.earliest, join_waitlist_from_page.latest, join_waitlist_from_page.at,
            join_waitlist_from_page.at)
    returning id into v_id;
  end if;
  return v_id;
end;
$$;

comment on function slotoptim.join_waitlist_from_page(bigint, text, text, integer[], time, time, date, date, timestamptz) is
  'Adds (or updates) a customer''s waitlist entry from the public page: service, optional provider, days, time window, dates.';
