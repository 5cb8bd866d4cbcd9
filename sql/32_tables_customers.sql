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
