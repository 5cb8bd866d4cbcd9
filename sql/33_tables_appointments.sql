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
