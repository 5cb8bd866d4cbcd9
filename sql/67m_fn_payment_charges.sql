-- Charging by the rules. A protected appointment (one booked through a confirmed checkout) that
-- becomes a no-show, is cancelled late, or is attended queues exactly one charge, capture or
-- release; the outbox worker sends it to Stripe after the commit. Outcomes are recorded here:
-- requires_action and failed are shown to staff and never retried blindly.

-- What a status change of a protected appointment costs, by the booking's policy: a share of the
-- price the customer was offered (the decision's offer), else of the service's price.
create or replace function slotoptim.payment_fee(appointment_id bigint, at timestamptz default now())
returns table (fee_minor bigint, currency text, reason text)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_appointment slotoptim_private.appointment;
  v_decision slotoptim_private.payment_decision;
  v_policy slotoptim_private.payment_policy;
  v_price bigint;
  v_at timestamptz;
  v_percent integer := 0;
begin
  select * into v_appointment from slotoptim_private.appointment as a where a.id = payment_fee.appointment_id;
  select * into v_decision from slotoptim_private.payment_decision as d
   where d.appointment_id = payment_fee.appointment_id order by d.decided_at desc limit 1;
  if v_appointment.id is null or v_decision.id is null then
    return;
  end if;
  select * into v_policy from slotoptim_private.payment_policy as p where p.id = v_decision.policy_id;
  if v_policy.id is null then
    v_policy := slotoptim_private.payment_policy_for(v_appointment.org_id, v_appointment.service_id);
  end if;
  currency := v_decision.currency;
  -- The price the customer was offered (fixed on the offer by last-minute pricing), else the
  -- service's list price (a booking without an offer, or an offer without a price).
  select slotoptim_private.minor_units(coalesce(o.price_cents::numeric / 100, s.price), v_decision.currency)
    into v_price
    from slotoptim_private.service as s
    left join slotoptim_private.offer as o on o.id = v_decision.offer_id
   where s.id = v_appointment.service_id;
  if v_appointment.status = 'no_show' then
    v_percent := coalesce(v_policy.no_show_percent, 0);
    reason := format('no-show: %s%% of the price', v_percent);
  elsif v_appointment.status = 'cancelled' then
    v_at := coalesce(v_appointment.cancelled_at, payment_fee.at);
    if v_at < v_appointment.booked_at + make_interval(mins => coalesce(v_policy.grace_minutes, 0)) then
      reason := format('cancelled within the %s-minute grace period: free', v_policy.grace_minutes);
    elsif lower(v_appointment.period) - v_at >= make_interval(hours => coalesce(v_policy.late_cancel_hours, 0)) then
      v_percent := coalesce(v_policy.late_cancel_far_percent, 0);
      reason := format('cancelled %s h ahead (at least %s h): %s%% of the price',
                       floor(extract(epoch from lower(v_appointment.period) - v_at) / 3600), v_policy.late_cancel_hours,
                       v_percent);
    else
      v_percent := coalesce(v_policy.late_cancel_near_percent, 0);
      reason := format('cancelled %s h ahead (less than %s h): %s%% of the price',
                       floor(greatest(extract(epoch from lower(v_appointment.period) - v_at), 0) / 3600),
                       v_policy.late_cancel_hours, v_percent);
    end if;
  elsif v_appointment.status in ('arrived', 'completed') then
    reason := 'attended: no fee';
  else
    return;
  end if;
  fee_minor := (v_price * v_percent) / 100;
  return next;
end;
$$;

comment on function slotoptim.payment_fee(bigint, timestamptz) is
  'The fee a protected appointment''s current status costs by its booking''s policy (no-show, late cancellation, attended), with the reason; a percentage of the price the booking''s offer fixed, else of the service price.';

-- The trigger: a protected appointment changed status. A held deposit is captured (up to the
-- fee) or released; a card on file is charged off-session; a prepayment stays paid.
create or replace function slotoptim_private.payment_after_appointment()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_checkout slotoptim_private.payment_checkout;
  v_fee record;
  v_card boolean;
  v_at timestamptz := slotoptim_private.clock();
begin
  select * into v_checkout from slotoptim_private.payment_checkout as k
   where k.appointment_id = new.id and k.status = 'booked'
   order by k.id desc limit 1;
  if v_checkout.id is null then
    return null;
  end if;
  select * into v_fee from slotoptim.payment_fee(new.id, v_at);
  if v_fee is null or v_fee.fee_minor is null then
    return null;
  end if;
  if v_checkout.hold_status = 'authorised'
     and not exists (select 1 from slotoptim_private.payment_charge as c
                      where c.appointment_id = new.id and c.kind = 'prepayment_capture') then
    if v_fee.fee_minor > 0 then
      perform slotoptim_private.queue_payment_charge(new.org_id, new.id, v_checkout.id, new.customer_id,
        'deposit_capture', least(v_fee.fee_minor, v_checkout.amount_minor), v_fee.currency, v_fee.reason, v_at);
    else
      perform slotoptim_private.queue_payment_charge(new.org_id, new.id, v_checkout.id, new.customer_id,
        'hold_release', 0, v_fee.currency, v_fee.reason, v_at);
    end if;
    return null;
  end if;
  v_card := exists (select 1 from slotoptim_private.payment_card as pc where pc.customer_id = new.customer_id);
  if v_fee.fee_minor > 0 and v_card and v_checkout.hold_status in ('none', 'lapsed', 'released') then
    perform slotoptim_private.queue_payment_charge(new.org_id, new.id, v_checkout.id, new.customer_id,
      case when new.status = 'no_show' then 'no_show_fee' else 'late_cancel_fee' end,
      v_fee.fee_minor, v_fee.currency, v_fee.reason, v_at);
  end if;
  return null;
end;
$$;

comment on function slotoptim_private.payment_after_appointment() is
  'Trigger: a protected appointment became a no-show, was cancelled or attended: queues the fee, capture or release.';

create or replace trigger appointment_payment_charges
  after update of status on slotoptim_private.appointment
  for each row when (old.status is distinct from new.status and new.status in ('no_show', 'cancelled', 'arrived', 'completed'))
  execute function slotoptim_private.payment_after_appointment();

-- What Stripe answered for a charge. Outcomes only move forward (succeeded is final; a failed
-- off-session charge the customer later completes becomes succeeded), so a late or repeated
-- webhook changes nothing.
create or replace function slotoptim.payment_charge_settled(charge_id bigint, status text, payment_intent text,
                                                            error_type text default null, error_code text default null,
                                                            decline_code text default null,
                                                            error_message text default null,
                                                            at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_charge slotoptim_private.payment_charge;
begin
  if payment_charge_settled.status not in ('sent', 'succeeded', 'requires_action', 'failed') then
    raise exception using errcode = 'invalid_parameter_value',
      message = format('status: %s is not a charge outcome', payment_charge_settled.status);
  end if;
  update slotoptim_private.payment_charge as c
     set status = payment_charge_settled.status,
         payment_intent = coalesce(payment_charge_settled.payment_intent, c.payment_intent),
         error_type = payment_charge_settled.error_type, error_code = payment_charge_settled.error_code,
         decline_code = payment_charge_settled.decline_code,
         error_message = left(payment_charge_settled.error_message, 500),
         settled_at = case when payment_charge_settled.status = 'sent' then c.settled_at else payment_charge_settled.at end
   where c.id = payment_charge_settled.charge_id
     and c.status not in ('succeeded', 'cancelled')
     and not (c.status = 'waived' and payment_charge_settled.status <> 'succeeded')
     and not (c.status in ('requires_action', 'failed') and payment_charge_settled.status = 'sent')
  returning * into v_charge;
  if v_charge.id is null then
    return 'unchanged';
  end if;
  if v_charge.status = 'succeeded' and v_charge.checkout_id is not null then
    update slotoptim_private.payment_checkout as k
       set hold_status = case v_charge.kind when 'hold_release' then 'released'
                                            when 'deposit_capture' then 'captured'
                                            when 'prepayment_capture' then 'captured'
                                            else k.hold_status end
     where k.id = v_charge.checkout_id;
  end if;
  return v_charge.status;
end;
$$;

comment on function slotoptim.payment_charge_settled(bigint, text, text, text, text, text, text, timestamptz) is
  'Records Stripe''s answer to a charge (sent, succeeded, requires_action, failed) with the error type, code and decline code; never moves backwards.';

-- Webhook facts about a PaymentIntent we know, in any order.
create or replace function slotoptim.payment_intent_event(payment_intent text, status text, error_code text,
                                                          decline_code text, error_message text,
                                                          at timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_changed integer := 0;
  v_charge record;
begin
  for v_charge in select c.id from slotoptim_private.payment_charge as c
                   where c.payment_intent = payment_intent_event.payment_intent and c.kind <> 'hold_release' loop
    if slotoptim.payment_charge_settled(v_charge.id, payment_intent_event.status, payment_intent_event.payment_intent,
         case when payment_intent_event.status = 'failed' then 'card_error' end, payment_intent_event.error_code,
         payment_intent_event.decline_code, payment_intent_event.error_message, payment_intent_event.at) <> 'unchanged' then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return v_changed;
end;
$$;

comment on function slotoptim.payment_intent_event(text, text, text, text, text, timestamptz) is
  'Applies a payment_intent webhook (succeeded, requires_action, failed) to the charges of that PaymentIntent; returns how many changed.';

-- Charge refunds and disputes, from charge.refunded and charge.dispute.created.
create or replace function slotoptim.payment_charge_event(payment_intent text, refunded_minor bigint, disputed boolean)
returns integer
language sql
volatile
set search_path = ''
as $$
  with changed as (
    update slotoptim_private.payment_charge as c
       set refunded_minor = greatest(c.refunded_minor, coalesce(payment_charge_event.refunded_minor, 0)),
           disputed = c.disputed or coalesce(payment_charge_event.disputed, false)
     where c.payment_intent = payment_charge_event.payment_intent and c.kind <> 'hold_release'
    returning 1)
  select count(*)::integer from changed;
$$;

comment on function slotoptim.payment_charge_event(text, bigint, boolean) is
  'Applies charge.refunded (amount refunded, only upwards) and charge.dispute.created to the charges of a PaymentIntent.';

-- A staff member waives a fee (with a reason; audited). A queued call is cancelled; a held
-- deposit is released instead of captured. A charge already at Stripe cannot be waived here.
create or replace function slotoptim.waive_payment_charge(charge_id bigint, reason text, at timestamptz default now())
returns slotoptim_private.payment_charge
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_charge slotoptim_private.payment_charge;
  v_actor jsonb := coalesce(nullif(pg_catalog.current_setting('slotoptim.actor', true), '')::jsonb, '{}');
begin
  if coalesce(length(trim(waive_payment_charge.reason)), 0) < 3 then
    raise exception using errcode = 'invalid_parameter_value', message = 'reason: say why the fee is waived (3 to 500 characters)';
  end if;
  select * into v_charge from slotoptim_private.payment_charge as c
   where c.id = waive_payment_charge.charge_id
     and (slotoptim_private.current_org() is null or c.org_id = slotoptim_private.current_org())
     for update;
  if v_charge.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown charge %s', waive_payment_charge.charge_id);
  end if;
  if v_charge.kind = 'hold_release' then
    raise exception using errcode = 'check_violation', message = format('charge %s is a release, not a fee', v_charge.id);
  end if;
  if v_charge.status not in ('queued', 'requires_action', 'failed')
     or exists (select 1 from slotoptim_private.external_write as w
                 where w.subject = 'payment_charge:' || v_charge.id and w.status = 'sending') then
    raise exception using errcode = 'check_violation',
      message = format('charge %s is %s: only a queued, failed or unconfirmed charge can be waived', v_charge.id,
                       case when v_charge.status = 'queued' then 'being sent' else v_charge.status end);
  end if;
  update slotoptim_private.external_write as w set status = 'cancelled', last_error = 'waived by staff'
   where w.subject = 'payment_charge:' || v_charge.id and w.status = 'queued';
  update slotoptim_private.payment_charge as c
     set status = 'waived', waive_reason = trim(waive_payment_charge.reason), settled_at = waive_payment_charge.at,
         waived_by = coalesce(v_actor ->> 'kind', 'system') || ':' || coalesce(v_actor ->> 'id', '-')
   where c.id = v_charge.id
  returning * into v_charge;
  if v_charge.kind = 'deposit_capture' then
    perform slotoptim_private.queue_payment_charge(v_charge.org_id, null, v_charge.checkout_id, v_charge.customer_id,
      'hold_release', 0, v_charge.currency, 'fee waived: ' || v_charge.waive_reason, waive_payment_charge.at);
  end if;
  return v_charge;
end;
$$;

comment on function slotoptim.waive_payment_charge(bigint, text, timestamptz) is
  'Staff waive a fee with a reason (audited): the queued Stripe call is cancelled and a held deposit released.';

-- Stripe's authorisation window: a card-not-present hold lasts about 7 days (Visa MIT 4 d 18 h).
-- A deposit whose hold would lapse before the appointment has ended is released `margin` ahead
-- of capture_before; the card stays on file (Checkout saved it for off-session use), so a
-- no-show is then charged off-session instead. Returns the charges queued.
create or replace function slotoptim.release_lapsing_holds(at timestamptz default now(),
                                                          margin interval default interval '12 hours')
returns setof bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_checkout record;
  v_id bigint;
begin
  for v_checkout in
    select k.id, k.org_id, k.customer_id, k.currency, k.appointment_id
      from slotoptim_private.payment_checkout as k
      join slotoptim_private.appointment as a on a.id = k.appointment_id
     where k.status = 'booked' and k.hold_status = 'authorised' and k.capture_before is not null
       and k.capture_before - release_lapsing_holds.margin <= release_lapsing_holds.at
       and k.capture_before < upper(a.period) + release_lapsing_holds.margin
       and a.status in ('booked', 'confirmed')
       and (slotoptim_private.current_org() is null or k.org_id = slotoptim_private.current_org())
       for update of k skip locked
  loop
    update slotoptim_private.payment_checkout as k set hold_status = 'lapsed' where k.id = v_checkout.id;
    v_id := slotoptim_private.queue_payment_charge(v_checkout.org_id, null, v_checkout.id, v_checkout.customer_id,
      'hold_release', 0, v_checkout.currency,
      'the authorisation would lapse before the appointment: released, card kept on file for fees',
      release_lapsing_holds.at);
    if v_id is not null then
      return next v_id;
    end if;
  end loop;
end;
$$;

comment on function slotoptim.release_lapsing_holds(timestamptz, interval) is
  'Releases deposit holds that would lapse (capture_before) before their appointment ends; fees then go to the card on file.';

-- Each Stripe event once: true when this event id is new (then process it), false for a repeat.
create or replace function slotoptim.stripe_event_received(org_id bigint, event_id text, type text, object_id text,
                                                           created timestamptz, at timestamptz default now())
returns boolean
language sql
volatile
set search_path = ''
as $$
  with inserted as (
    insert into slotoptim_private.stripe_event (event_id, org_id, type, object_id, created, received_at)
    values (stripe_event_received.event_id, stripe_event_received.org_id, stripe_event_received.type,
            stripe_event_received.object_id, stripe_event_received.created, stripe_event_received.at)
    on conflict (event_id) do nothing
    returning 1)
  select exists (select 1 from inserted);
$$;

comment on function slotoptim.stripe_event_received(bigint, text, text, text, timestamptz, timestamptz) is
  'Records a Stripe event id; true the first time (process it), false for a repeat delivery.';
