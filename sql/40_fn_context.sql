-- Request context: which organisation a session acts for, and what time it is.

-- The organisation set for this transaction or session (set_config('slotoptim.org_id', ...)), or null.
create or replace function slotoptim_private.current_org()
returns bigint
language sql
stable
parallel safe
return nullif(pg_catalog.current_setting('slotoptim.org_id', true), '')::bigint;

-- The clock triggers use. Functions take an explicit "at" argument; when they change rows whose
-- triggers need the time, they pass it on through the transaction-local setting slotoptim.clock,
-- so simulations and tests drive time without sleeping.
create or replace function slotoptim_private.clock()
returns timestamptz
language sql
stable
parallel safe
return coalesce(nullif(pg_catalog.current_setting('slotoptim.clock', true), '')::timestamptz, pg_catalog.now());

-- Sets the trigger clock to p_at for the rest of the transaction (null: back to now()) and returns
-- the previous setting, so a function can restore it when it is done.
create or replace function slotoptim_private.set_clock(p_at timestamptz)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous text := coalesce(pg_catalog.current_setting('slotoptim.clock', true), '');
begin
  perform pg_catalog.set_config('slotoptim.clock', coalesce(p_at::text, ''), true);
  return v_previous;
end;
$$;
