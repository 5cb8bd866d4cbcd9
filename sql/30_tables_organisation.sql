-- Tenants and their settings. Every tenant table carries org_id; composite foreign keys
-- (org_id, id) make a cross-organisation reference impossible at the database level.

create table if not exists slotoptim_private.organisation (
  id bigint generated always as identity primary key,
  key text not null unique
    constraint organisation_key_format check (key ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  name text not null
    constraint organisation_name_length check (length(name) between 1 and 200),
  timezone text not null
    constraint organisation_timezone_valid check (slotoptim_private.is_timezone(timezone)),
  currency text not null default 'USD'
    constraint organisation_currency_format check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now()
);

comment on table slotoptim_private.organisation is 'A practice (tenant): its time zone and currency.';

create table if not exists slotoptim_private.organisation_settings (
  org_id bigint primary key references slotoptim_private.organisation (id) on delete cascade,
  max_buffer_minutes integer not null default 60
    constraint settings_max_buffer_range check (max_buffer_minutes between 0 and 480),
  gap_merge_window interval not null default interval '1 day'
    constraint settings_gap_merge_window_positive check (gap_merge_window > interval '0')
);

comment on table slotoptim_private.organisation_settings is 'Per-organisation knobs an admin can edit.';

create table if not exists slotoptim_private.location (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint location_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  name text not null
    constraint location_name_length check (length(name) between 1 and 200),
  timezone text not null
    constraint location_timezone_valid check (slotoptim_private.is_timezone(timezone)),
  address text,
  unique (org_id, key),
  unique (org_id, id)
);
