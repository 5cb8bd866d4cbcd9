-- Seed 003's holiday surge beyond the price (sql/56n_fn_pricing.sql): on a surge day offers stay
-- open for a shorter time and more customers are offered at once, so a holiday opening (high
-- demand, customers answering less predictably) is decided faster. A surge day is a local date of
-- the slot listed among the holidays of the organisation's enabled pricing policy.

create or replace function slotoptim_private.surge_day(p_org_id bigint, p_slot_start timestamptz)
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce((select (p_slot_start at time zone o.timezone)::date = any (pp.holidays)
                     from slotoptim_private.pricing_policy as pp
                     join slotoptim_private.organisation as o on o.id = pp.org_id
                    where pp.org_id = p_org_id and pp.enabled), false);
$$;

comment on function slotoptim_private.surge_day(bigint, timestamptz) is
  'Whether a slot starting at p_slot_start falls on a holiday of the organisation''s enabled pricing policy (seed 003 surge).';

-- A surge day's response window: half the usual one, five minutes at least (never longer than usual).
create or replace function slotoptim_private.surge_window(p_window interval, p_surge boolean)
returns interval
language sql
immutable
set search_path = ''
as $$
  select case when p_surge then least(p_window, greatest(p_window / 2, interval '5 minutes')) else p_window end;
$$;

comment on function slotoptim_private.surge_window(interval, boolean) is
  'The response window of an offer on a surge day: half the usual, at least 5 minutes; unchanged on other days.';

-- A surge day's wave size: twice the usual (null, everyone, stays everyone).
create or replace function slotoptim_private.surge_wave(p_limit integer, p_surge boolean)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case when p_surge then p_limit * 2 else p_limit end;
$$;

comment on function slotoptim_private.surge_wave(integer, boolean) is
  'How many customers a wave offers on a surge day: twice the usual (null: everyone); unchanged on other days.';
