-- Money in the measures (issue 13): fees and deposits collected, waived and failed per month,
-- next to the revenue won back by offers; the charges staff must look at; and whether customers
-- put under a deposit rule show up more often than before.

create or replace function slotoptim_private.major_units(p_minor bigint, p_currency text)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when p_currency in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX',
                                  'VND', 'VUV', 'XAF', 'XOF', 'XPF')
              then p_minor::numeric else round(p_minor::numeric / 100, 2) end;
$$;

comment on function slotoptim_private.major_units(bigint, text) is
  'A minor-unit amount (Stripe''s) back in the currency''s major unit.';

create or replace view slotoptim.payment_money_monthly with (security_invoker = true) as
with charges as (
  select c.org_id,
         date_trunc('month', c.created_at at time zone o.timezone)::date as month,
         c.currency,
         sum(c.amount_minor - c.refunded_minor) filter (where c.status = 'succeeded') as collected,
         sum(c.amount_minor) filter (where c.status = 'waived') as waived,
         sum(c.amount_minor) filter (where c.status in ('failed', 'requires_action')) as failed,
         count(*) filter (where c.status = 'succeeded')::integer as n_collected,
         count(*) filter (where c.status = 'waived')::integer as n_waived,
         count(*) filter (where c.status in ('failed', 'requires_action'))::integer as n_failed
    from slotoptim_private.payment_charge as c
    join slotoptim_private.organisation as o on o.id = c.org_id
   where c.kind <> 'hold_release'
   group by 1, 2, 3
), recovered as (
  select o.id as org_id, date_trunc('month', r.day)::date as month, sum(r.revenue) as revenue
    from slotoptim.revenue_recovered as r
    join slotoptim_private.organisation as o on o.key = r.org_key
   group by 1, 2
)
select o.key as org_key,
       coalesce(c.month, r.month) as month,
       o.currency,
       slotoptim_private.major_units(coalesce(c.collected, 0)::bigint, o.currency) as collected,
       slotoptim_private.major_units(coalesce(c.waived, 0)::bigint, o.currency) as waived,
       slotoptim_private.major_units(coalesce(c.failed, 0)::bigint, o.currency) as failed,
       coalesce(c.n_collected, 0) as charges_collected,
       coalesce(c.n_waived, 0) as charges_waived,
       coalesce(c.n_failed, 0) as charges_failed,
       coalesce(r.revenue, 0) as revenue_recovered
  from charges as c
  full join recovered as r on r.org_id = c.org_id and r.month = c.month
  join slotoptim_private.organisation as o on o.id = coalesce(c.org_id, r.org_id);

comment on view slotoptim.payment_money_monthly is
  'Per organisation and local month: no-show and late-cancellation fees and deposits collected (net of refunds), waived and failed, next to the revenue recovered by offers.';
comment on column slotoptim.payment_money_monthly.org_key is 'the organisation''s key';
comment on column slotoptim.payment_money_monthly.month is 'first day of the month (organisation''s time zone) the charge was decided, or of the recovered appointments';
comment on column slotoptim.payment_money_monthly.currency is 'the organisation''s currency (ISO 4217)';
comment on column slotoptim.payment_money_monthly.collected is 'fees, captured deposits and prepayments Stripe confirmed, minus refunds';
comment on column slotoptim.payment_money_monthly.waived is 'fees staff waived (with a reason)';
comment on column slotoptim.payment_money_monthly.failed is 'fees declined or awaiting the customer''s authentication (requires_action)';
comment on column slotoptim.payment_money_monthly.charges_collected is 'number of charges collected';
comment on column slotoptim.payment_money_monthly.charges_waived is 'number of charges waived';
comment on column slotoptim.payment_money_monthly.charges_failed is 'number of charges failed or requiring action';
comment on column slotoptim.payment_money_monthly.revenue_recovered is 'price of appointments booked through offers that month (slotoptim.revenue_recovered)';

-- The charges that need a person: declined, or waiting for the customer to authenticate.
create or replace view slotoptim.payment_attention with (security_invoker = true) as
select c.id as charge_id,
       o.key as org_key,
       a.key as appointment_key,
       c.appointment_id,
       cu.key as customer_key,
       c.kind,
       slotoptim_private.major_units(c.amount_minor, c.currency) as amount,
       c.currency,
       c.status,
       c.reason,
       c.error_code,
       c.decline_code,
       c.error_message,
       c.payment_intent,
       c.created_at
  from slotoptim_private.payment_charge as c
  join slotoptim_private.organisation as o on o.id = c.org_id
  join slotoptim_private.customer as cu on cu.id = c.customer_id
  left join slotoptim_private.appointment as a on a.id = c.appointment_id
 where c.status in ('requires_action', 'failed');

comment on view slotoptim.payment_attention is
  'Charges staff must look at: declined (failed) or waiting for the customer to authenticate (requires_action); never retried blindly.';
comment on column slotoptim.payment_attention.charge_id is 'the charge (waive it with slotoptim.waive_payment_charge)';
comment on column slotoptim.payment_attention.org_key is 'the organisation''s key';
comment on column slotoptim.payment_attention.appointment_key is 'the appointment''s key, if it has one';
comment on column slotoptim.payment_attention.appointment_id is 'the appointment the fee is for';
comment on column slotoptim.payment_attention.customer_key is 'the customer''s key';
comment on column slotoptim.payment_attention.kind is 'no_show_fee, late_cancel_fee, deposit_capture or prepayment_capture';
comment on column slotoptim.payment_attention.amount is 'the amount, in the currency''s major unit';
comment on column slotoptim.payment_attention.currency is 'ISO 4217 currency';
comment on column slotoptim.payment_attention.status is 'failed or requires_action';
comment on column slotoptim.payment_attention.reason is 'the policy rule that set the fee';
comment on column slotoptim.payment_attention.error_code is 'Stripe''s error code (card_declined, authentication_required...)';
comment on column slotoptim.payment_attention.decline_code is 'the issuer''s decline code (insufficient_funds...)';
comment on column slotoptim.payment_attention.error_message is 'Stripe''s message';
comment on column slotoptim.payment_attention.payment_intent is 'the Stripe PaymentIntent id';
comment on column slotoptim.payment_attention.created_at is 'when the fee was decided';

-- Customers put under a deposit (or prepayment) rule: their no-show rate on appointments held
-- before the first such decision versus on appointments booked after it.
create or replace view slotoptim.deposit_rule_noshow with (security_invoker = true) as
with first_rule as (
  select d.org_id, d.customer_id, min(d.decided_at) as since
    from slotoptim_private.payment_decision as d
   where d.requirement in ('deposit', 'prepayment') and d.appointment_id is not null
   group by 1, 2
), outcomes as (
  select f.org_id,
         lower(a.period) < f.since as before,
         a.status = 'no_show' as no_show
    from first_rule as f
    join slotoptim_private.appointment as a on a.customer_id = f.customer_id
   where a.status in ('arrived', 'completed', 'no_show')
     and (lower(a.period) < f.since or a.booked_at >= f.since)
)
select o.key as org_key,
       (select count(*)::integer from first_rule as f where f.org_id = o.id) as customers,
       count(*) filter (where x.before)::integer as appointments_before,
       count(*) filter (where x.before and x.no_show)::integer as no_shows_before,
       round(avg(x.no_show::integer) filter (where x.before), 4) as no_show_rate_before,
       count(*) filter (where not x.before)::integer as appointments_after,
       count(*) filter (where not x.before and x.no_show)::integer as no_shows_after,
       round(avg(x.no_show::integer) filter (where not x.before), 4) as no_show_rate_after
  from slotoptim_private.organisation as o
  join outcomes as x on x.org_id = o.id
 group by o.id, o.key;

comment on view slotoptim.deposit_rule_noshow is
  'Customers put under a deposit or prepayment rule: no-show rate of their past appointments before the first such decision versus of those booked after.';
comment on column slotoptim.deposit_rule_noshow.org_key is 'the organisation''s key';
comment on column slotoptim.deposit_rule_noshow.customers is 'customers with at least one booked deposit or prepayment decision';
comment on column slotoptim.deposit_rule_noshow.appointments_before is 'their attended or missed appointments that started before the first decision';
comment on column slotoptim.deposit_rule_noshow.no_shows_before is 'no-shows among them';
comment on column slotoptim.deposit_rule_noshow.no_show_rate_before is 'no_shows_before / appointments_before';
comment on column slotoptim.deposit_rule_noshow.appointments_after is 'their attended or missed appointments booked at or after the first decision';
comment on column slotoptim.deposit_rule_noshow.no_shows_after is 'no-shows among them';
comment on column slotoptim.deposit_rule_noshow.no_show_rate_after is 'no_shows_after / appointments_after';
