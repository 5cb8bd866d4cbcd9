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
