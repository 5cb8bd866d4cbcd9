-- Validators used by check constraints. They live in the structural part of sql/
-- because tables depend on them; change them only through a migration.

-- True when tz is a time zone name PostgreSQL can convert with (IANA names such as 'America/New_York').
create or replace function slotoptim_private.is_timezone(tz text)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  if tz is null or tz !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' then
    return false;
  end if;
  perform pg_catalog.now() at time zone tz;
  return true;
exception
  when invalid_parameter_value then
    return false;
end;
$$;

comment on function slotoptim_private.is_timezone(text) is 'True for a time zone name PostgreSQL knows (IANA style).';

-- The statuses in which an appointment occupies the provider's time (and its buffer).
-- Cancelled and no-show appointments free their time.
create or replace function slotoptim_private.is_blocking(status text)
returns boolean
language sql
immutable
parallel safe
-- No SET clause: the planner inlines it, so partial indexes on the same predicate apply.
return status in ('booked', 'confirmed', 'arrived', 'completed');
