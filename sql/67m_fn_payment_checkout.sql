-- The pending state of a booking that waits for Stripe: a checkout row holds the gap for the
-- Checkout session's life; the webhook books it (or releases it); nothing is booked before.
-- Charges queue an outbox row (slotoptim_private.external_write, kind stripe_payment) in the
-- transaction that decides them, so nothing is charged before that transaction commits.

-- The organisation's Stripe connection (purpose payments), if linked and not disabled.
create or replace function slotoptim_private.stripe_connection_id(p_org_id bigint)
returns bigint
language sql
stable
set search_path = ''
as $$
  select c.id from slotoptim_private.external_connection as c
   where c.org_id = p_org_id and c.provider_id is null and c.purpose = 'payments' and c.kind = 'stripe'
     and c.state <> 'disabled';
$$;

comment on function slotoptim_private.stripe_connection_id(bigint) is
  'The id of an organisation''s Stripe connection (external_connection, purpose payments), or null.';

-- Writes a charge and its outbox row in the caller's transaction. One per appointment and kind
-- (or per checkout for a release): asked twice, it is queued once. Returns the charge id.
create or replace function slotoptim_private.queue_payment_charge(
  p_org_id bigint, p_appointment_id bigint, p_checkout_id bigint, p_customer_id bigint, p_kind text,
  p_amount_minor bigint, p_currency text, p_reason text, p_at timestamptz)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
  v_connection bigint := slotoptim_private.stripe_connection_id(p_org_id);
begin
  insert into slotoptim_private.payment_charge (org_id, appointment_id, checkout_id, customer_id, kind, amount_minor,
                                                currency, reason, created_at)
  values (p_org_id, p_appointment_id, p_checkout_id, p_customer_id, p_kind, p_amount_minor, p_currency, p_reason, p_at)
  on conflict do nothing
  returning id into v_id;
  if v_id is null then
    return null;
  end if;
  if v_connection is null then
    update slotoptim_private.payment_charge as c
       set status = 'failed', error_type = 'configuration', error_message = 'Stripe is not connected', settled_at = p_at
     where c.id = v_id;
    return v_id;
  end if;
  perform slotoptim.queue_external_write(v_connection, 'stripe_payment', 'payment_charge:' || v_id,
                                         'slotoptim-charge-' || v_id, pg_catalog.jsonb_build_object('charge_id', v_id), p_at);
  return v_id;
end;
$$;

comment on function slotoptim_private.queue_payment_charge(bigint, bigint, bigint, bigint, text, bigint, text, text, timestamptz) is
  'Records a charge (fee, capture or release) and queues its Stripe call in the outbox with key slotoptim-charge-<id>.';

-- Ends the checkouts whose session has expired by `at` (Stripe's checkout.session.expired may
-- come late or never reach us). Returns the gaps they held, so their Redis holds go too.
create or replace function slotoptim.expire_payment_checkouts(at timestamptz default now())
returns table (checkout_id bigint, gap_id bigint)
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.payment_checkout as k
     set status = 'expired', closed_at = expire_payment_checkouts.at, closed_reason = 'the session expired unpaid'
   where k.status in ('creating', 'open') and k.expires_at <= expire_payment_checkouts.at
     and (slotoptim_private.current_org() is null or k.org_id = slotoptim_private.current_org())
  returning k.id, k.gap_id;
$$;

comment on function slotoptim.expire_payment_checkouts(timestamptz) is
  'Marks checkouts whose Stripe session has expired as expired (the slot is free again); returns their gaps.';

-- The payment step of a pending booking: writes the checkout row that holds the gap (before the
-- Stripe session is created: the row's id is the session's idempotency key). Returns the live
-- checkout of this offer if one exists (the customer pressed twice), null if another customer's
-- checkout holds the gap.
create or replace function slotoptim.begin_payment_checkout(offer_id bigint, decision_id bigint,
                                                            expires_at timestamptz, at timestamptz default now())
returns slotoptim_private.payment_checkout
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
  v_decision slotoptim_private.payment_decision;
  v_checkout slotoptim_private.payment_checkout;
begin
  select * into v_offer from slotoptim_private.offer as o
   where o.id = begin_payment_checkout.offer_id
     and (slotoptim_private.current_org() is null or o.org_id = slotoptim_private.current_org());
  select * into v_decision from slotoptim_private.payment_decision as d
   where d.id = begin_payment_checkout.decision_id and d.offer_id = begin_payment_checkout.offer_id;
  if v_offer.id is null or v_decision.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('offer %s has no payment decision %s', begin_payment_checkout.offer_id,
                       begin_payment_checkout.decision_id);
  end if;
  if v_decision.requirement = 'none' then
    raise exception using errcode = 'check_violation', message = 'this booking requires no payment';
  end if;
  perform slotoptim.expire_payment_checkouts(begin_payment_checkout.at);
  select * into v_checkout from slotoptim_private.payment_checkout as k
   where k.gap_id = v_offer.gap_id and k.status in ('creating', 'open') for update;
  if v_checkout.id is not null then
    return case when v_checkout.offer_id = v_offer.id then v_checkout end;
  end if;
  insert into slotoptim_private.payment_checkout (org_id, decision_id, offer_id, gap_id, customer_id, mode, amount_minor,
                                                  currency, expires_at, created_at)
  values (v_offer.org_id, v_decision.id, v_offer.id, v_offer.gap_id, v_offer.customer_id,
          case when v_decision.requirement = 'card' then 'setup' else 'payment' end, v_decision.amount_minor,
          v_decision.currency, begin_payment_checkout.expires_at, begin_payment_checkout.at)
  on conflict do nothing
  returning * into v_checkout;
  return v_checkout;
end;
$$;

comment on function slotoptim.begin_payment_checkout(bigint, bigint, timestamptz, timestamptz) is
  'Writes the pending checkout that holds an offer''s gap until its Stripe session ends; null when another customer''s checkout holds it.';

create or replace function slotoptim.payment_checkout_opened(checkout_id bigint, session_id text, url text,
                                                             stripe_customer text)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.payment_checkout as k
     set status = 'open', stripe_session = payment_checkout_opened.session_id, url = payment_checkout_opened.url,
         stripe_customer = payment_checkout_opened.stripe_customer
   where k.id = payment_checkout_opened.checkout_id and k.status = 'creating';
$$;

comment on function slotoptim.payment_checkout_opened(bigint, text, text, text) is
  'Records the Stripe Checkout session (id, URL, Stripe customer) of a pending checkout.';

-- A live checkout of another offer holds this gap: the claim flow answers "being confirmed".
create or replace function slotoptim.payment_checkout_holds_gap(gap_id bigint, offer_id bigint,
                                                                at timestamptz default now())
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from slotoptim_private.payment_checkout as k
                  where k.gap_id = payment_checkout_holds_gap.gap_id and k.status in ('creating', 'open')
                    and k.expires_at > payment_checkout_holds_gap.at
                    and k.offer_id is distinct from payment_checkout_holds_gap.offer_id);
$$;

comment on function slotoptim.payment_checkout_holds_gap(bigint, bigint, timestamptz) is
  'True when another offer''s live Stripe checkout holds the gap (the pending state of a booking awaiting payment).';

-- Stripe says the session expired: the gap is free again (a completed session stays as it is).
create or replace function slotoptim.payment_checkout_expired(session_id text, at timestamptz default now())
returns bigint
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.payment_checkout as k
     set status = 'expired', closed_at = payment_checkout_expired.at, closed_reason = 'Stripe: checkout.session.expired'
   where k.stripe_session = payment_checkout_expired.session_id and k.status in ('creating', 'open')
  returning k.gap_id;
$$;

comment on function slotoptim.payment_checkout_expired(text, timestamptz) is
  'Ends a checkout whose Stripe session expired unpaid; returns the gap it held (null: nothing changed).';

-- The webhook confirmed the card or the hold and the claim booked: the decision is stored with
-- the booking, the card is kept (ids, brand, last four), a prepayment is captured now.
create or replace function slotoptim.payment_checkout_booked(
  checkout_id bigint, appointment_id bigint, stripe_customer text, setup_intent text, payment_intent text,
  payment_method text, brand text, last4 text, capture_before timestamptz, at timestamptz default now())
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_checkout slotoptim_private.payment_checkout;
  v_decision slotoptim_private.payment_decision;
begin
  update slotoptim_private.payment_checkout as k
     set status = 'booked', appointment_id = payment_checkout_booked.appointment_id,
         stripe_customer = coalesce(payment_checkout_booked.stripe_customer, k.stripe_customer),
         setup_intent = payment_checkout_booked.setup_intent, payment_intent = payment_checkout_booked.payment_intent,
         hold_status = case when k.mode = 'payment' then 'authorised' else 'none' end,
         capture_before = payment_checkout_booked.capture_before, closed_at = payment_checkout_booked.at,
         closed_reason = 'booked'
   where k.id = payment_checkout_booked.checkout_id and k.status in ('creating', 'open', 'expired')
  returning * into v_checkout;
  if v_checkout.id is null then
    return;
  end if;
  update slotoptim_private.payment_decision as d set appointment_id = payment_checkout_booked.appointment_id
   where d.id = v_checkout.decision_id
  returning * into v_decision;
  -- A booking from the page keeps its source and its "earlier if possible" (sql/58l_fn_booking.sql).
  perform slotoptim_private.booking_page_booked(v_checkout.offer_id, payment_checkout_booked.appointment_id,
                                                payment_checkout_booked.at);
  if payment_checkout_booked.payment_method is not null and v_checkout.stripe_customer is not null then
    insert into slotoptim_private.payment_card (org_id, customer_id, stripe_customer, payment_method, brand, last4, saved_at)
    values (v_checkout.org_id, v_checkout.customer_id, v_checkout.stripe_customer, payment_checkout_booked.payment_method,
            payment_checkout_booked.brand, payment_checkout_booked.last4, payment_checkout_booked.at)
    on conflict (org_id, customer_id) do update
      set stripe_customer = excluded.stripe_customer, payment_method = excluded.payment_method,
          brand = excluded.brand, last4 = excluded.last4, saved_at = excluded.saved_at;
  end if;
  if v_decision.requirement = 'prepayment' then
    perform slotoptim_private.queue_payment_charge(v_checkout.org_id, v_checkout.appointment_id, v_checkout.id,
      v_checkout.customer_id, 'prepayment_capture', v_checkout.amount_minor, v_checkout.currency,
      'prepayment: ' || v_decision.explanation, payment_checkout_booked.at);
  end if;
end;
$$;

comment on function slotoptim.payment_checkout_booked(bigint, bigint, text, text, text, text, text, text, timestamptz, timestamptz) is
  'Records that a confirmed checkout booked its appointment: decision linked, card kept (ids, brand, last4), prepayment captured.';

-- Confirmed at Stripe, but the claim could not book (filled, expired): any hold is released.
create or replace function slotoptim.payment_checkout_lost(checkout_id bigint, payment_intent text, reason text,
                                                           at timestamptz default now())
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_checkout slotoptim_private.payment_checkout;
begin
  update slotoptim_private.payment_checkout as k
     set status = 'lost', payment_intent = coalesce(payment_checkout_lost.payment_intent, k.payment_intent),
         hold_status = case when coalesce(payment_checkout_lost.payment_intent, k.payment_intent) is null then 'none'
                            else 'authorised' end,
         closed_at = payment_checkout_lost.at, closed_reason = left(payment_checkout_lost.reason, 200)
   where k.id = payment_checkout_lost.checkout_id and k.status in ('creating', 'open', 'expired')
  returning * into v_checkout;
  if v_checkout.payment_intent is not null then
    perform slotoptim_private.queue_payment_charge(v_checkout.org_id, null, v_checkout.id, v_checkout.customer_id,
      'hold_release', 0, v_checkout.currency, 'the slot was gone when the payment was confirmed: hold released',
      payment_checkout_lost.at);
  end if;
end;
$$;

comment on function slotoptim.payment_checkout_lost(bigint, text, text, timestamptz) is
  'A checkout confirmed at Stripe whose claim could not book: marked lost and its hold released through the outbox.';

-- The claim flow's payment gate (slotoptim.listener.claims.claim, unless the payment is already
-- confirmed): 'being_confirmed' while another offer's checkout holds the gap, 'payment_required'
-- when the policy asks this booking for a card, deposit or prepayment (the customer must go
-- through the claim page's Checkout), null to book as usual. Cheap when no policy exists.
create or replace function slotoptim.offer_payment_gate(offer_id bigint, at timestamptz default now())
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
begin
  select * into v_offer from slotoptim_private.offer as o where o.id = offer_payment_gate.offer_id;
  if v_offer.id is null then
    return null;
  end if;
  if slotoptim.payment_checkout_holds_gap(v_offer.gap_id, v_offer.id, offer_payment_gate.at) then
    return 'being_confirmed';
  end if;
  if not exists (select 1 from slotoptim_private.payment_policy as p where p.org_id = v_offer.org_id) then
    return null;
  end if;
  if (select r.requirement from slotoptim.payment_requirement(v_offer.customer_id, v_offer.service_id, v_offer.slot,
                                                               offer_payment_gate.at, offer_id => v_offer.id) as r)
     <> 'none' then
    return 'payment_required';
  end if;
  return null;
end;
$$;

comment on function slotoptim.offer_payment_gate(bigint, timestamptz) is
  'Before a claim books: being_confirmed (another customer''s checkout holds the gap), payment_required (the policy asks for a card or deposit), or null.';
