-- Last-minute pricing (seed 003 section 5): an optional per-organisation policy. The price is fixed
-- on the offer when it is made (offer.price_cents in offer.currency, with the rule that set it), so
-- the claim page, a deposit (Stripe) and recovered revenue all use what the customer was quoted.

-- The price of a service for a slot offered at p_sent to a customer of tier p_tier, under the
-- organisation's policy: list price, minus the last-minute discount when the slot starts within
-- last_minute_hours, minus the tier discount, plus the holiday surge on the organisation's
-- holidays (local date of the slot). Null when the organisation has no enabled policy.
create or replace function slotoptim_private.offer_price(
  p_org_id bigint, p_service_id bigint, p_slot_start timestamptz, p_sent timestamptz, p_tier text
)
returns table (list_price_cents integer, price_cents integer, currency text, price_rule text)
language sql
stable
set search_path = ''
as $$
  with base as (
    select round(s.price * 100)::integer as list, o.currency,
           case when pp.last_minute_hours is not null
                     and p_slot_start - p_sent < pg_catalog.make_interval(hours => pp.last_minute_hours)
                then pp.last_minute_discount_pct else 0 end as last_minute,
           coalesce((pp.tier_discount_pct ->> coalesce(p_tier, 'standard'))::numeric, 0) as tier,
           case when (p_slot_start at time zone o.timezone)::date = any (pp.holidays)
                then pp.holiday_surge_pct else 0 end as surge
      from slotoptim_private.pricing_policy as pp
      join slotoptim_private.organisation as o on o.id = pp.org_id
      join slotoptim_private.service as s on s.id = p_service_id and s.org_id = pp.org_id
     where pp.org_id = p_org_id
       and pp.enabled
  )
  select b.list,
         greatest(0, round(b.list * (1 - b.last_minute / 100) * (1 - least(b.tier, 100) / 100) * (1 + b.surge / 100)))
           ::integer,
         b.currency,
         concat_ws(', ', 'list ' || b.list,
                   case when b.last_minute > 0 then format('last-minute -%s%%', b.last_minute) end,
                   case when b.tier > 0 then format('%s tier -%s%%', coalesce(p_tier, 'standard'), b.tier) end,
                   case when b.surge > 0 then format('holiday +%s%%', b.surge) end)
    from base as b;
$$;

create or replace function slotoptim_private.offer_fix_price()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_price record;
begin
  if new.price_cents is null then
    select * into v_price
      from slotoptim_private.offer_price(
             new.org_id, new.service_id, lower(new.slot), new.send_at,
             (select w.tier from slotoptim_private.waitlist_entry as w where w.id = new.waitlist_entry_id));
    if found then
      new.list_price_cents := v_price.list_price_cents;
      new.price_cents := v_price.price_cents;
      new.currency := v_price.currency;
      new.price_rule := v_price.price_rule;
    end if;
  end if;
  return new;
end;
$$;

create or replace trigger offer_fix_price
  before insert on slotoptim_private.offer
  for each row execute function slotoptim_private.offer_fix_price();

-- Sets (or replaces) an organisation's pricing policy; returns it as stored.
create or replace function slotoptim.set_pricing_policy(
  org_id bigint,
  last_minute_hours integer default null,
  last_minute_discount_pct numeric default 0,
  tier_discount_pct jsonb default '{}',
  holiday_surge_pct numeric default 20,
  holidays date[] default '{}',
  enabled boolean default true
)
returns slotoptim_private.pricing_policy
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row slotoptim_private.pricing_policy;
begin
  if slotoptim_private.current_org() is not null and set_pricing_policy.org_id <> slotoptim_private.current_org() then
    raise exception using errcode = 'insufficient_privilege', message = 'org_id: not your organisation';
  end if;
  if exists (select 1 from pg_catalog.jsonb_each(coalesce(set_pricing_policy.tier_discount_pct, '{}')) as t
              where t.key not in ('platinum', 'gold', 'silver', 'standard')
                 or pg_catalog.jsonb_typeof(t.value) <> 'number'
                 or t.value::numeric not between 0 and 100) then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'tier_discount_pct: keys platinum, gold, silver, standard; values are percentages 0-100';
  end if;
  insert into slotoptim_private.pricing_policy as pp (org_id, enabled, last_minute_hours, last_minute_discount_pct,
                                                     tier_discount_pct, holiday_surge_pct, holidays)
  values (set_pricing_policy.org_id, set_pricing_policy.enabled, set_pricing_policy.last_minute_hours,
          set_pricing_policy.last_minute_discount_pct, coalesce(set_pricing_policy.tier_discount_pct, '{}'),
          set_pricing_policy.holiday_surge_pct, coalesce(set_pricing_policy.holidays, '{}'))
  on conflict on constraint pricing_policy_pkey do update
     set enabled = excluded.enabled, last_minute_hours = excluded.last_minute_hours,
         last_minute_discount_pct = excluded.last_minute_discount_pct, tier_discount_pct = excluded.tier_discount_pct,
         holiday_surge_pct = excluded.holiday_surge_pct, holidays = excluded.holidays
  returning * into v_row;
  return v_row;
end;
$$;

comment on function slotoptim.set_pricing_policy(bigint, integer, numeric, jsonb, numeric, date[], boolean) is
  'Sets an organisation''s last-minute pricing policy (discount within N hours, tier discounts, holiday surge); prices are fixed on offers.';
