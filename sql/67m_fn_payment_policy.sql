-- No-show protection: the policy decides, explains, and is stored with the booking.
-- slotoptim.payment_requirement is pure (stable): it reads the policy, the customer's no-show
-- history in the rolling window, their tier, the price and (optionally) a predicted risk, and
-- says which of none < card < deposit < prepayment applies and which rule made it so.

-- Stripe amounts are in the currency's minor unit; these currencies have none (Stripe's list of
-- zero-decimal currencies).
create or replace function slotoptim_private.minor_units(p_amount numeric, p_currency text)
returns bigint
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_currency in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX',
                                  'VND', 'VUV', 'XAF', 'XOF', 'XPF')
              then pg_catalog.round(p_amount)::bigint
              else pg_catalog.round(p_amount * 100)::bigint end;
$$;

comment on function slotoptim_private.minor_units(numeric, text) is
  'An amount in a currency''s minor unit, as Stripe wants it (cents; yen as is).';

-- The policy that applies to a service: its own, else the organisation's.
create or replace function slotoptim_private.payment_policy_for(p_org_id bigint, p_service_id bigint)
returns slotoptim_private.payment_policy
language sql
stable
set search_path = ''
as $$
  select p.* from slotoptim_private.payment_policy as p
   where p.org_id = p_org_id and (p.service_id = p_service_id or p.service_id is null)
   order by p.service_id nulls last
   limit 1;
$$;

comment on function slotoptim_private.payment_policy_for(bigint, bigint) is
  'The payment policy of a service, else of its organisation; null when neither has one.';

create or replace function slotoptim_private.requirement_rank(p_requirement text)
returns integer
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case p_requirement when 'prepayment' then 3 when 'deposit' then 2 when 'card' then 1 else 0 end;
$$;

comment on function slotoptim_private.requirement_rank(text) is
  'Orders requirements: none 0, card 1, deposit 2, prepayment 3 (the strongest applicable one wins).';

-- Decides what a booking of `service_id` by `customer_id` in `slot` requires at `at`. `risk` is a
-- predicted no-show probability for this booking (the caller's model); when null, the latest
-- risk recorded on the customer's appointments is used. `offer_id` names the offer the booking
-- comes from: the price the customer was offered (fixed on the offer by last-minute pricing) is
-- then the price the rules, the deposit and the prepayment use; without an offer, or when the
-- offer carries no price, the service's list price. Ties between rules go to the first in the
-- order history, tier, price, risk.

-- An earlier signature (without offer_id): with both, a call without offer_id would be ambiguous.
drop function if exists slotoptim.payment_requirement(bigint, bigint, tstzrange, timestamptz, real);

create or replace function slotoptim.payment_requirement(customer_id bigint, service_id bigint, slot tstzrange,
                                                         at timestamptz default now(), risk real default null,
                                                         offer_id bigint default null)
returns table (requirement text, amount_minor bigint, currency text, rule text, explanation text,
               no_shows integer, risk_used real, policy_id bigint, price numeric)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_customer slotoptim_private.customer;
  v_service slotoptim_private.service;
  v_policy slotoptim_private.payment_policy;
  v_offer slotoptim_private.offer;
  v_currency text;
  v_price numeric;
  v_tier text;
  v_best text := 'none';
  v_rule text := 'none';
  v_why text := 'no rule of the policy applies';
begin
  select * into v_customer from slotoptim_private.customer as c where c.id = payment_requirement.customer_id;
  if v_customer.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown customer %s', payment_requirement.customer_id);
  end if;
  select * into v_service from slotoptim_private.service as s
   where s.id = payment_requirement.service_id and s.org_id = v_customer.org_id;
  if v_service.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown service %s', payment_requirement.service_id);
  end if;
  select o.currency into v_currency from slotoptim_private.organisation as o where o.id = v_customer.org_id;
  v_price := v_service.price;
  if payment_requirement.offer_id is not null then
    select * into v_offer from slotoptim_private.offer as o
     where o.id = payment_requirement.offer_id and o.customer_id = v_customer.id and o.service_id = v_service.id;
    if v_offer.id is null then
      raise exception using errcode = 'no_data_found',
        message = format('offer_id: unknown offer %s for this customer and service', payment_requirement.offer_id);
    end if;
    -- The offered price (offer.price_cents is the amount times 100 in offer.currency, as
    -- slotoptim_private.offer_price writes it).
    if v_offer.price_cents is not null then
      v_price := (v_offer.price_cents::numeric / 100)::numeric(12, 2);
      v_currency := coalesce(v_offer.currency, v_currency);
    end if;
  end if;
  v_policy := slotoptim_private.payment_policy_for(v_customer.org_id, v_service.id);
  price := v_price;
  currency := v_currency;
  policy_id := v_policy.id;

  select count(*)::integer into no_shows
    from slotoptim_private.appointment as a
   where a.customer_id = v_customer.id and a.status = 'no_show'
     and lower(a.period) >= payment_requirement.at - make_interval(days => coalesce(v_policy.window_days, 183))
     and lower(a.period) < payment_requirement.at;
  risk_used := coalesce(payment_requirement.risk,
                        (select a.no_show_risk from slotoptim_private.appointment as a
                          where a.customer_id = v_customer.id and a.no_show_risk is not null
                          order by a.booked_at desc limit 1));

  if v_policy.id is null then
    requirement := 'none'; amount_minor := 0; rule := 'no_policy';
    explanation := 'the practice has no payment policy';
    return next;
    return;
  end if;

  -- The customer's best tier among their live waitlist entries ('standard' without one).
  select coalesce((select w.tier from slotoptim_private.waitlist_entry as w
                    where w.customer_id = v_customer.id and w.status = 'active'
                    order by slotoptim_private.tier_rank(w.tier) limit 1), 'standard')
    into v_tier;

  -- History: seed 003, a second no-show within six months needs a deposit, a third prepayment.
  if v_policy.prepay_after_no_shows is not null and no_shows >= v_policy.prepay_after_no_shows then
    v_best := 'prepayment'; v_rule := 'no_show_history';
    v_why := format('%s no-shows in the last %s days (prepayment from %s)', no_shows, v_policy.window_days,
                    v_policy.prepay_after_no_shows);
  elsif v_policy.deposit_after_no_shows is not null and no_shows >= v_policy.deposit_after_no_shows then
    v_best := 'deposit'; v_rule := 'no_show_history';
    v_why := format('%s no-shows in the last %s days (deposit from %s)', no_shows, v_policy.window_days,
                    v_policy.deposit_after_no_shows);
  elsif v_policy.card_after_no_shows is not null and no_shows >= v_policy.card_after_no_shows then
    v_best := 'card'; v_rule := 'no_show_history';
    v_why := format('%s no-show%s in the last %s days (card on file from %s)', no_shows,
                    case when no_shows = 1 then '' else 's' end, v_policy.window_days, v_policy.card_after_no_shows);
  end if;

  if slotoptim_private.requirement_rank(v_best) < 2 and v_tier = any (v_policy.deposit_tiers) then
    v_best := 'deposit'; v_rule := 'tier'; v_why := format('tier %s requires a deposit', v_tier);
  elsif slotoptim_private.requirement_rank(v_best) < 1 and v_tier = any (v_policy.card_tiers) then
    v_best := 'card'; v_rule := 'tier'; v_why := format('tier %s requires a card on file', v_tier);
  end if;

  if slotoptim_private.requirement_rank(v_best) < 2 and v_policy.deposit_min_price is not null
     and v_price >= v_policy.deposit_min_price then
    v_best := 'deposit'; v_rule := 'price';
    v_why := format('price %s is at least %s (deposit)', v_price, v_policy.deposit_min_price);
  elsif slotoptim_private.requirement_rank(v_best) < 1 and v_policy.card_min_price is not null
        and v_price >= v_policy.card_min_price then
    v_best := 'card'; v_rule := 'price';
    v_why := format('price %s is at least %s (card on file)', v_price, v_policy.card_min_price);
  end if;

  if v_policy.risk_threshold is not null and risk_used is not null and risk_used >= v_policy.risk_threshold
     and slotoptim_private.requirement_rank(v_best) < slotoptim_private.requirement_rank(v_policy.risk_requirement) then
    v_best := v_policy.risk_requirement; v_rule := 'risk';
    v_why := format('predicted no-show risk %s is at or above %s (%s)', round(risk_used::numeric, 2),
                    v_policy.risk_threshold, case when v_policy.risk_requirement = 'card' then 'card on file'
                                                  else 'deposit' end);
  end if;

  requirement := v_best;
  amount_minor := case v_best
                    when 'deposit' then slotoptim_private.minor_units(v_price * v_policy.deposit_percent / 100,
                                                                      v_currency)
                    when 'prepayment' then slotoptim_private.minor_units(v_price, v_currency)
                    else 0 end;
  -- Nothing to hold on a free service: a card on file still covers the fees.
  if v_best in ('deposit', 'prepayment') and amount_minor = 0 then
    requirement := 'card';
    v_why := v_why || '; the price is 0, so a card on file instead';
  end if;
  rule := v_rule;
  explanation := v_why;
  return next;
end;
$$;

comment on function slotoptim.payment_requirement(bigint, bigint, tstzrange, timestamptz, real, bigint) is
  'What a booking requires (none, card, deposit, prepayment), the amount held or paid, and which policy rule applied and why; with offer_id, by the price the offer fixed (else the service price).';

-- Decides for an offer and stores the decision (audited); the claim page and the booking page
-- call it before they show or book.
create or replace function slotoptim.decide_payment_for_offer(offer_id bigint, at timestamptz default now(),
                                                              risk real default null)
returns slotoptim_private.payment_decision
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
  v_decision slotoptim_private.payment_decision;
begin
  select * into v_offer from slotoptim_private.offer as o
   where o.id = decide_payment_for_offer.offer_id
     and (slotoptim_private.current_org() is null or o.org_id = slotoptim_private.current_org());
  if v_offer.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown offer %s', decide_payment_for_offer.offer_id);
  end if;
  insert into slotoptim_private.payment_decision (org_id, customer_id, service_id, slot, offer_id, policy_id, requirement,
                                                  amount_minor, currency, rule, explanation, no_shows, risk, decided_at)
  select v_offer.org_id, v_offer.customer_id, v_offer.service_id, v_offer.slot, v_offer.id, r.policy_id, r.requirement,
         r.amount_minor, r.currency, r.rule, r.explanation, r.no_shows, r.risk_used, decide_payment_for_offer.at
    from slotoptim.payment_requirement(v_offer.customer_id, v_offer.service_id, v_offer.slot,
                                       decide_payment_for_offer.at, decide_payment_for_offer.risk, v_offer.id) as r
  returning * into v_decision;
  return v_decision;
end;
$$;

comment on function slotoptim.decide_payment_for_offer(bigint, timestamptz, real) is
  'Decides the payment requirement of an offer''s booking, by the price the offer fixed, and stores the decision (audited).';

-- Sets (creates or replaces) the policy of the current organisation, or of one of its services.
-- Only the keys given change; unknown keys are refused by name.
create or replace function slotoptim.set_payment_policy(service_key text, changes jsonb, at timestamptz default now())
returns slotoptim_private.payment_policy
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org bigint := slotoptim_private.current_org();
  v_service bigint;
  v_unknown text;
  v_policy slotoptim_private.payment_policy;
begin
  if v_org is null then
    raise exception using errcode = 'insufficient_privilege', message = 'no organisation is set';
  end if;
  if set_payment_policy.changes is null or jsonb_typeof(set_payment_policy.changes) <> 'object' then
    raise exception using errcode = 'invalid_parameter_value', message = 'changes must be a JSON object';
  end if;
  select k into v_unknown from jsonb_object_keys(set_payment_policy.changes) as k
   where k not in ('grace_minutes', 'late_cancel_hours', 'late_cancel_far_percent', 'late_cancel_near_percent',
                   'no_show_percent', 'window_days', 'card_after_no_shows', 'deposit_after_no_shows',
                   'prepay_after_no_shows', 'deposit_percent', 'card_tiers', 'deposit_tiers', 'card_min_price',
                   'deposit_min_price', 'risk_threshold', 'risk_requirement')
   limit 1;
  if v_unknown is not null then
    raise exception using errcode = 'invalid_parameter_value', message = format('%s: unknown policy field', v_unknown);
  end if;
  if set_payment_policy.service_key is not null then
    select s.id into v_service from slotoptim_private.service as s
     where s.org_id = v_org and s.key = set_payment_policy.service_key;
    if v_service is null then
      raise exception using errcode = 'no_data_found',
        message = format('service_key: unknown service %s', set_payment_policy.service_key);
    end if;
  end if;
  insert into slotoptim_private.payment_policy (org_id, service_id, updated_at)
  values (v_org, v_service, set_payment_policy.at)
  on conflict (org_id, service_id) do nothing;
  select * into v_policy from slotoptim_private.payment_policy as p
   where p.org_id = v_org and p.service_id is not distinct from v_service for update;
  v_policy := jsonb_populate_record(v_policy, set_payment_policy.changes);
  update slotoptim_private.payment_policy as p
     set grace_minutes = v_policy.grace_minutes, late_cancel_hours = v_policy.late_cancel_hours,
         late_cancel_far_percent = v_policy.late_cancel_far_percent,
         late_cancel_near_percent = v_policy.late_cancel_near_percent, no_show_percent = v_policy.no_show_percent,
         window_days = v_policy.window_days, card_after_no_shows = v_policy.card_after_no_shows,
         deposit_after_no_shows = v_policy.deposit_after_no_shows, prepay_after_no_shows = v_policy.prepay_after_no_shows,
         deposit_percent = v_policy.deposit_percent, card_tiers = v_policy.card_tiers,
         deposit_tiers = v_policy.deposit_tiers, card_min_price = v_policy.card_min_price,
         deposit_min_price = v_policy.deposit_min_price, risk_threshold = v_policy.risk_threshold,
         risk_requirement = v_policy.risk_requirement, updated_at = set_payment_policy.at
   where p.id = v_policy.id
  returning * into v_policy;
  return v_policy;
end;
$$;

comment on function slotoptim.set_payment_policy(text, jsonb, timestamptz) is
  'Creates or changes the current organisation''s payment policy (service_key null) or a service''s; only the given fields change.';
