-- Input rules (docs/architecture.md, "Input rules"). Never edit: add a migration.
--
-- Existing rows: a repair that keeps what the engine does with the row is applied; a row that
-- cannot be repaired without inventing data (an instant outside 1900-2200, an appointment longer
-- than a day, a NaN price) keeps its constraint NOT VALID, so new writes obey it at once, and a
-- WARNING names the rows; the constraint is validated here when no such row exists.

-- 1. Frozen copies of the structural files this revision changed (validators; constraints on
-- appointment, service, closure, customer and waitlist_entry). On an existing database their
-- `create table if not exists` changes nothing: the constraints are added below.

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

-- Providers, the services they offer, their weekly hours and their closures.

create table if not exists slotoptim_private.provider (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint provider_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  name text not null
    constraint provider_name_length check (length(name) between 1 and 200),
  location_id bigint,
  timezone text not null
    constraint provider_timezone_valid check (slotoptim_private.is_timezone(timezone)),
  active boolean not null default true,
  unique (org_id, key),
  unique (org_id, id),
  foreign key (org_id, location_id) references slotoptim_private.location (org_id, id)
);

create table if not exists slotoptim_private.service (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint service_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  name text not null
    constraint service_name_length check (length(name) between 1 and 200),
  minutes integer not null
    constraint service_minutes_range check (minutes between 1 and 1440),
  price numeric(12, 2) not null default 0
    constraint service_price_nonnegative check (price >= 0)
    -- numeric accepts 'NaN' (and sorts it above every number, so >= 0 lets it through).
    constraint service_price_finite check (price <> 'NaN'::numeric),
  buffer_after_minutes integer not null default 0
    constraint service_buffer_range check (buffer_after_minutes between 0 and 480),
  category text not null default 'general'
    constraint service_category_format check (category ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  -- 1 (routine) .. 5 (most complex); buffer rules can key on it.
  complexity smallint not null default 1
    constraint service_complexity_range check (complexity between 1 and 5),
  active boolean not null default true,
  unique (org_id, key),
  unique (org_id, id)
);

create table if not exists slotoptim_private.provider_service (
  org_id bigint not null,
  provider_id bigint not null,
  service_id bigint not null,
  primary key (provider_id, service_id),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade
);

create index if not exists provider_service_service_idx on slotoptim_private.provider_service (service_id);

-- Weekly hours in the provider's local wall-clock time (ISO weekday: 1 = Monday .. 7 = Sunday).
-- Converting to instants happens per date in slotoptim_private.working_time, so DST is handled there.
create table if not exists slotoptim_private.working_hours (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  provider_id bigint not null,
  weekday smallint not null
    constraint working_hours_weekday_range check (weekday between 1 and 7),
  starts_at time not null,
  ends_at time not null,
  constraint working_hours_order check (starts_at < ends_at),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  constraint working_hours_no_overlap exclude using gist (
    provider_id with =,
    weekday with =,
    tsrange(date '2000-01-03' + starts_at, date '2000-01-03' + ends_at, '[)') with &&
  )
);

-- Closures and holidays: the whole organisation (no provider, no location), one location, or one provider.
create table if not exists slotoptim_private.closure (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  provider_id bigint,
  location_id bigint,
  during tstzrange not null
    constraint closure_during_finite check (
      not isempty(during) and not lower_inf(during) and not upper_inf(during)
    ),
  reason text not null default ''
    constraint closure_reason_length check (length(reason) <= 200),
  constraint closure_one_scope check (provider_id is null or location_id is null),
  constraint closure_during_range check (slotoptim_private.is_supported_period(during)),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, location_id) references slotoptim_private.location (org_id, id) on delete cascade
);

create index if not exists closure_during_idx on slotoptim_private.closure using gist (org_id, during);

-- Customers and their waitlist entries.

create table if not exists slotoptim_private.customer (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint customer_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$'),
  name text not null
    constraint customer_name_length check (length(name) between 1 and 200),
  -- E.164: a plus, a non-zero country digit, at most 15 digits in all.
  phone text
    constraint customer_phone_e164 check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  email text
    constraint customer_email_format check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
  -- Null means "the organisation's time zone".
  timezone text
    constraint customer_timezone_valid check (timezone is null or slotoptim_private.is_timezone(timezone)),
  birth_date date,
  consent_sms boolean not null default false,
  consent_whatsapp boolean not null default false,
  consent_email boolean not null default false,
  -- Set by STOP and friends: no channel may be used while it is set.
  opted_out_at timestamptz,
  created_at timestamptz not null default now(),
  constraint customer_sms_needs_phone check (not consent_sms or phone is not null),
  constraint customer_whatsapp_needs_phone check (not consent_whatsapp or phone is not null),
  constraint customer_email_needs_address check (not consent_email or email is not null),
  constraint customer_dates_range check (
    slotoptim_private.is_supported_date(birth_date) and slotoptim_private.is_supported_instant(opted_out_at)
  ),
  unique (org_id, key),
  unique (org_id, id)
);

create index if not exists customer_phone_idx on slotoptim_private.customer (phone);

-- A waitlist entry, shaped after seed 002's schema: what the customer wants and when they can come.
-- Days and the time window are in the customer's time zone.
create table if not exists slotoptim_private.waitlist_entry (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  key text
    constraint waitlist_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  status text not null default 'active'
    constraint waitlist_status_known check (status in ('active', 'paused', 'fulfilled', 'cancelled', 'expired')),
  -- ISO weekdays (1 = Monday); null means any day.
  preferred_days smallint[]
    constraint waitlist_days_valid check (
      preferred_days is null
      or (cardinality(preferred_days) between 1 and 7 and preferred_days <@ array[1, 2, 3, 4, 5, 6, 7]::smallint[])
    ),
  window_start time,
  window_end time,
  earliest_date date,
  latest_date date,
  -- Services the customer would accept (at least one); checked against the organisation by trigger.
  service_ids bigint[] not null
    constraint waitlist_services_nonempty check (cardinality(service_ids) >= 1),
  -- Acceptable providers; null means any provider who offers the service.
  provider_ids bigint[]
    constraint waitlist_providers_nonempty check (provider_ids is null or cardinality(provider_ids) >= 1),
  excluded_provider_ids bigint[] not null default '{}',
  travel_minutes integer
    constraint waitlist_travel_nonnegative check (travel_minutes >= 0),
  max_travel_minutes integer
    constraint waitlist_max_travel_nonnegative check (max_travel_minutes >= 0),
  -- The least notice the customer needs before an offered slot starts.
  lead_time_minutes integer not null default 120
    constraint waitlist_lead_time_range check (lead_time_minutes between 0 and 43200),
  tier text not null default 'standard'
    constraint waitlist_tier_known check (tier in ('platinum', 'gold', 'silver', 'standard')),
  -- Response history (seed 002 keeps it as JSON; typed counters let SQL score it).
  offers_received integer not null default 0 constraint waitlist_offers_received_nonnegative check (offers_received >= 0),
  offers_accepted integer not null default 0 constraint waitlist_offers_accepted_nonnegative check (offers_accepted >= 0),
  offers_declined integer not null default 0 constraint waitlist_offers_declined_nonnegative check (offers_declined >= 0),
  offers_ignored integer not null default 0 constraint waitlist_offers_ignored_nonnegative check (offers_ignored >= 0),
  consecutive_ignored integer not null default 0 constraint waitlist_consecutive_ignored_nonnegative check (consecutive_ignored >= 0),
  added_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint waitlist_window_order check (
    (window_start is null and window_end is null) or (window_start is not null and window_end is not null and window_start < window_end)
  ),
  constraint waitlist_dates_order check (earliest_date is null or latest_date is null or earliest_date <= latest_date),
  constraint waitlist_history_consistent check (offers_accepted + offers_declined + offers_ignored <= offers_received),
  -- A provider is preferred or excluded, never both (the exclusion would silently win).
  constraint waitlist_provider_not_excluded check (provider_ids is null or not (provider_ids && excluded_provider_ids)),
  -- The travel time is a fact about the customer, the maximum their limit: above it, no slot fits.
  constraint waitlist_travel_within_max check (travel_minutes <= max_travel_minutes),
  constraint waitlist_dates_range check (
    slotoptim_private.is_supported_date(earliest_date) and slotoptim_private.is_supported_date(latest_date)
    and slotoptim_private.is_supported_instant(added_at)
  ),
  unique (org_id, key),
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade
);

create index if not exists waitlist_entry_customer_idx on slotoptim_private.waitlist_entry (customer_id);
create index if not exists waitlist_entry_active_services_idx
  on slotoptim_private.waitlist_entry using gin (service_ids) where status = 'active';

-- Appointments, the buffer rules that size the time after them, and the gaps cancellations open.

create table if not exists slotoptim_private.appointment (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  provider_id bigint not null,
  service_id bigint not null,
  customer_id bigint,
  key text
    constraint appointment_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  period tstzrange not null
    constraint appointment_period_shape check (
      not isempty(period) and not lower_inf(period) and not upper_inf(period)
      and lower_inc(period) and not upper_inc(period)
    ),
  -- Filled by slotoptim_private.buffer_after() on insert unless given; the one source of buffers.
  buffer_after_minutes integer not null
    constraint appointment_buffer_range check (buffer_after_minutes between 0 and 480),
  -- period extended by the buffer; maintained by trigger because timestamptz + interval is not immutable.
  blocked tstzrange not null,
  status text not null default 'booked'
    constraint appointment_status_known check (
      status in ('booked', 'confirmed', 'arrived', 'completed', 'no_show', 'cancelled')
    ),
  source text not null default 'staff'
    constraint appointment_source_known check (source in ('staff', 'import', 'waitlist', 'portal')),
  booked_at timestamptz not null default now(),
  cancelled_at timestamptz,
  actual_start timestamptz,
  actual_end timestamptz,
  no_show_risk real
    constraint appointment_risk_probability check (no_show_risk between 0 and 1),
  sms_reminder boolean not null default false,
  constraint appointment_actual_order check (actual_start is null or actual_end is null or actual_start <= actual_end),
  -- Input rules (docs/architecture.md): instants from 1900 to 2200, and at most a day long.
  constraint appointment_period_range check (slotoptim_private.is_supported_period(period)),
  constraint appointment_length_max check (upper(period) - lower(period) <= interval '24 hours'),
  constraint appointment_instants_range check (
    slotoptim_private.is_supported_instant(booked_at) and slotoptim_private.is_supported_instant(cancelled_at)
    and slotoptim_private.is_supported_instant(actual_start) and slotoptim_private.is_supported_instant(actual_end)
  ),
  unique (org_id, key),
  unique (org_id, id),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete set null (customer_id),
  -- The final arbiter against double booking: two blocking appointments of one provider never overlap,
  -- buffers included. Violations raise SQLSTATE 23P01.
  constraint appointment_no_overlap exclude using gist (provider_id with =, blocked with &&)
    where (status in ('booked', 'confirmed', 'arrived', 'completed'))
);

create index if not exists appointment_customer_idx on slotoptim_private.appointment (customer_id, (lower(period)));
create index if not exists appointment_org_start_idx on slotoptim_private.appointment (org_id, (lower(period)));

-- Extra minutes after an appointment, added to the service's default buffer when every
-- non-null condition of the rule holds. Admins edit these rows.
create table if not exists slotoptim_private.buffer_rule (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  name text not null
    constraint buffer_rule_name_length check (length(name) between 1 and 200),
  when_new_customer boolean,
  when_category text,
  when_min_complexity smallint
    constraint buffer_rule_complexity_range check (when_min_complexity between 1 and 5),
  when_service_id bigint,
  when_provider_id bigint,
  extra_minutes integer not null
    constraint buffer_rule_extra_range check (extra_minutes between -240 and 240),
  active boolean not null default true,
  unique (org_id, name),
  foreign key (org_id, when_service_id) references slotoptim_private.service (org_id, id) on delete cascade,
  foreign key (org_id, when_provider_id) references slotoptim_private.provider (org_id, id) on delete cascade
);

-- A gap the system knows about: freed time (merged with adjacent free time) waiting to be filled.
create table if not exists slotoptim_private.gap (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  provider_id bigint not null,
  during tstzrange not null
    constraint gap_during_shape check (not isempty(during) and not lower_inf(during) and not upper_inf(during)),
  kind text not null
    constraint gap_kind_known check (kind in ('bookable', 'fragment')),
  -- Keys of the services that fit when the gap opened.
  fits text[] not null default '{}',
  status text not null default 'open'
    constraint gap_status_known check (status in ('open', 'offering', 'filled', 'expired', 'merged', 'withdrawn')),
  source_appointment_id bigint,
  merged_into bigint references slotoptim_private.gap (id),
  opened_at timestamptz not null default now(),
  closed_at timestamptz,
  unique (org_id, id),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, source_appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (source_appointment_id),
  -- Two live gaps of one provider never overlap: merging supersedes, it never duplicates.
  constraint gap_live_no_overlap exclude using gist (provider_id with =, during with &&)
    where (status in ('open', 'offering'))
);

create index if not exists gap_org_status_idx on slotoptim_private.gap (org_id, status, (lower(during)));

-- 2. Time zones the new rule refuses. The POSIX-style US rules are links to these places in the
-- IANA database since 2024b, so the clock does not change; anything else becomes UTC for an
-- organisation, the organisation's zone for a location or provider, and "none" (the
-- organisation's) for a customer.
create temporary table zone_replacement (old text primary key, new text not null);
insert into zone_replacement values
  ('EST5EDT', 'America/New_York'), ('CST6CDT', 'America/Chicago'), ('MST7MDT', 'America/Denver'),
  ('PST8PDT', 'America/Los_Angeles'), ('EST', 'America/Panama'), ('MST', 'America/Phoenix'),
  ('HST', 'Pacific/Honolulu'), ('GMT', 'UTC'), ('Etc/UTC', 'UTC'), ('Etc/GMT', 'UTC'), ('UCT', 'UTC'),
  ('Universal', 'UTC'), ('Zulu', 'UTC'), ('Etc/Universal', 'UTC'), ('Etc/Zulu', 'UTC'), ('Etc/UCT', 'UTC');

update slotoptim_private.organisation as o
   set timezone = coalesce((select r.new from zone_replacement as r where r.old = o.timezone), 'UTC')
 where not slotoptim_private.is_timezone(o.timezone);
update slotoptim_private.location as l
   set timezone = coalesce((select r.new from zone_replacement as r where r.old = l.timezone),
                           (select o.timezone from slotoptim_private.organisation as o where o.id = l.org_id))
 where not slotoptim_private.is_timezone(l.timezone);
update slotoptim_private.provider as p
   set timezone = coalesce((select r.new from zone_replacement as r where r.old = p.timezone),
                           (select o.timezone from slotoptim_private.organisation as o where o.id = p.org_id))
 where not slotoptim_private.is_timezone(p.timezone);
update slotoptim_private.customer as c
   set timezone = (select r.new from zone_replacement as r where r.old = c.timezone)
 where c.timezone is not null and not slotoptim_private.is_timezone(c.timezone);
drop table zone_replacement;

-- 3. Waitlist entries. A provider both preferred and excluded was never offered (the exclusion
-- won): it leaves the preferred list; an entry left with no preferred provider matched nothing
-- and is paused, with no preference. A travel time above the maximum scored 0 travel points,
-- as it does when the maximum equals it: the maximum is raised to it.
update slotoptim_private.waitlist_entry as w
   set provider_ids = nullif(array(select p from unnest(w.provider_ids) as p where p <> all (w.excluded_provider_ids)), '{}'),
       status = case when w.provider_ids <@ w.excluded_provider_ids and w.status = 'active' then 'paused' else w.status end
 where w.provider_ids && w.excluded_provider_ids;
update slotoptim_private.waitlist_entry
   set max_travel_minutes = travel_minutes
 where travel_minutes > max_travel_minutes;

-- The repairs above queued deferred trigger events (the audit trail); ALTER TABLE needs none pending.
set constraints all immediate;

alter table slotoptim_private.waitlist_entry
  add constraint waitlist_provider_not_excluded check (provider_ids is null or not (provider_ids && excluded_provider_ids)),
  add constraint waitlist_travel_within_max check (travel_minutes <= max_travel_minutes);

-- 4. Ranges, lengths and prices: NOT VALID first, validated when no row breaks them.
alter table slotoptim_private.appointment
  add constraint appointment_period_range check (slotoptim_private.is_supported_period(period)) not valid,
  add constraint appointment_length_max check (upper(period) - lower(period) <= interval '24 hours') not valid,
  add constraint appointment_instants_range check (
    slotoptim_private.is_supported_instant(booked_at) and slotoptim_private.is_supported_instant(cancelled_at)
    and slotoptim_private.is_supported_instant(actual_start) and slotoptim_private.is_supported_instant(actual_end)
  ) not valid;
alter table slotoptim_private.service
  add constraint service_price_finite check (price <> 'NaN'::numeric) not valid;
alter table slotoptim_private.closure
  add constraint closure_during_range check (slotoptim_private.is_supported_period(during)) not valid;
alter table slotoptim_private.customer
  add constraint customer_dates_range check (
    slotoptim_private.is_supported_date(birth_date) and slotoptim_private.is_supported_instant(opted_out_at)
  ) not valid;
alter table slotoptim_private.waitlist_entry
  add constraint waitlist_dates_range check (
    slotoptim_private.is_supported_date(earliest_date) and slotoptim_private.is_supported_date(latest_date)
    and slotoptim_private.is_supported_instant(added_at)
  ) not valid;

do $$
declare
  v_check record;
  v_ids text;
begin
  for v_check in
    select * from (values
      ('appointment', 'appointment_period_range', 'not slotoptim_private.is_supported_period(period)'),
      ('appointment', 'appointment_length_max', 'upper(period) - lower(period) > interval ''24 hours'''),
      ('appointment', 'appointment_instants_range',
       'not (slotoptim_private.is_supported_instant(booked_at) and slotoptim_private.is_supported_instant(cancelled_at)'
       ' and slotoptim_private.is_supported_instant(actual_start) and slotoptim_private.is_supported_instant(actual_end))'),
      ('service', 'service_price_finite', 'price = ''NaN''::numeric'),
      ('closure', 'closure_during_range', 'not slotoptim_private.is_supported_period(during)'),
      ('customer', 'customer_dates_range',
       'not (slotoptim_private.is_supported_date(birth_date) and slotoptim_private.is_supported_instant(opted_out_at))'),
      ('waitlist_entry', 'waitlist_dates_range',
       'not (slotoptim_private.is_supported_date(earliest_date) and slotoptim_private.is_supported_date(latest_date)'
       ' and slotoptim_private.is_supported_instant(added_at))')
    ) as t(table_name, constraint_name, broken)
  loop
    execute format('select string_agg(id::text, '', '' order by id) from (select id from slotoptim_private.%I where %s limit 20) as b',
                   v_check.table_name, v_check.broken)
      into v_ids;
    if v_ids is null then
      execute format('alter table slotoptim_private.%I validate constraint %I', v_check.table_name, v_check.constraint_name);
    else
      raise warning 'slotoptim_private.% rows (ids %) break %: fix or delete them, then VALIDATE CONSTRAINT',
        v_check.table_name, v_ids, v_check.constraint_name;
    end if;
  end loop;
end;
$$;
