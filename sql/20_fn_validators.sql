-- Validators used by check constraints. They live in the structural part of sql/
-- because tables depend on them; change them only through a migration.

-- True when tz names a place PostgreSQL can convert with: an IANA Area/Location name such as
-- 'America/New_York' (also 'America/Argentina/Buenos_Aires'), or 'UTC'. Refused, because they are
-- not the wall clock of any practice: 'Factory' (no time at all), POSIX-style rules such as
-- 'EST5EDT' or 'EST', fixed offsets ('Etc/GMT+5' is five hours *behind* UTC) and the posix/, right/
-- and SystemV/ copies. docs/architecture.md (Input rules) documents this.
create or replace function slotoptim_private.is_timezone(tz text)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  if tz is null then
    return false;
  end if;
  if tz <> 'UTC' and (tz !~ '^[A-Z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+$' or tz ~ '^(Etc|posix|right|SystemV)/') then
    return false;
  end if;
  perform pg_catalog.now() at time zone tz;
  return true;
exception
  when invalid_parameter_value then
    return false;
end;
$$;

comment on function slotoptim_private.is_timezone(text) is 'True for an IANA Area/Location time zone PostgreSQL knows, or UTC.';

-- The statuses in which an appointment occupies the provider's time (and its buffer).
-- Cancelled and no-show appointments free their time.
create or replace function slotoptim_private.is_blocking(status text)
returns boolean
language sql
immutable
parallel safe
-- No SET clause: the planner inlines it, so partial indexes on the same predicate apply.
return status in ('booked', 'confirmed', 'arrived', 'completed');

-- Instants and dates the system stores lie between 1900-01-01 and 2200-01-01 (UTC), both included.
-- Wider values are typing mistakes (year 9999, year 10000 after an offset) that Python cannot read
-- back and that no appointment book needs. NULL passes: the column's own NOT NULL decides.
create or replace function slotoptim_private.is_supported_instant(at timestamptz)
returns boolean
language sql
immutable
parallel safe
return at is null or (at >= '1900-01-01 00:00:00+00'::timestamptz and at <= '2200-01-01 00:00:00+00'::timestamptz);

comment on function slotoptim_private.is_supported_instant(timestamptz) is
  'True for NULL or an instant from 1900-01-01 to 2200-01-01 UTC: the range the system stores.';

create or replace function slotoptim_private.is_supported_date(day date)
returns boolean
language sql
immutable
parallel safe
return day is null or day between '1900-01-01'::date and '2200-01-01'::date;

comment on function slotoptim_private.is_supported_date(date) is
  'True for NULL or a date from 1900-01-01 to 2200-01-01: the range the system stores.';

-- Both ends of a finite range lie in the supported range.
create or replace function slotoptim_private.is_supported_period(during tstzrange)
returns boolean
language sql
immutable
parallel safe
return during is null
  or (slotoptim_private.is_supported_instant(lower(during)) and slotoptim_private.is_supported_instant(upper(during)));

comment on function slotoptim_private.is_supported_period(tstzrange) is
  'True for NULL or a range whose ends lie from 1900-01-01 to 2200-01-01 UTC.';
