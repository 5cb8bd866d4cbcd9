-- Frozen copy of sql/39e_tables_queue.sql as of revision 0011. Never edit: add a migration.
-- The check-in queue of the day of the visit: who is here, in which queue, and each step's time.
-- Positions are not stored: slotoptim.queue_order computes them from these rows, the clock and
-- the organisation's weights, so nothing has to be renumbered when someone arrives or leaves.

-- Seed 001's QueueConfiguration, one row per organisation (defaults apply without a row).
create table if not exists slotoptim_private.queue_settings (
  org_id bigint primary key references slotoptim_private.organisation (id) on delete cascade,
  -- Weights of the three parts of a waiting customer's score (priority flags, minutes waited,
  -- how due the appointment is), as in seed 001: 0.5 / 0.3 / 0.2.
  priority_weight numeric(4, 2) not null default 0.5
    constraint queue_priority_weight_range check (priority_weight between 0 and 10),
  wait_time_weight numeric(4, 2) not null default 0.3
    constraint queue_wait_weight_range check (wait_time_weight between 0 and 10),
  appointment_time_weight numeric(4, 2) not null default 0.2
    constraint queue_appointment_weight_range check (appointment_time_weight between 0 and 10),
  -- Arriving more than early_minutes before the appointment is early; more than late_minutes
  -- after its start is late, and a late arrival queues like a walk-in.
  early_minutes integer not null default 15
    constraint queue_early_range check (early_minutes between 0 and 240),
  late_minutes integer not null default 10
    constraint queue_late_range check (late_minutes between 0 and 240),
  allow_walk_ins boolean not null default true,
  -- Walk-ins are turned away once this many people wait in the queue they would join.
  overflow_threshold integer not null default 10
    constraint queue_overflow_range check (overflow_threshold between 1 and 1000),
  -- Service minutes when nothing has been learned yet (and the naive estimate's unit).
  default_service_minutes integer not null default 20
    constraint queue_default_service_range check (default_service_minutes between 1 and 480),
  use_historical_data boolean not null default true,
  -- Text a booked customer who has not arrived when their provider is predicted this late.
  heads_up_minutes integer not null default 20
    constraint queue_heads_up_range check (heads_up_minutes between 5 and 480),
  heads_up_enabled boolean not null default false
);

comment on table slotoptim_private.queue_settings is
  'Per-organisation queue configuration (seed 001 QueueConfiguration): weights, punctuality windows, walk-ins, defaults.';

-- Priority flags a practice defines (urgent, elderly, accessibility...), with their points (0-100).
create table if not exists slotoptim_private.queue_flag (
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint queue_flag_key_format check (key ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  label text not null
    constraint queue_flag_label_length check (length(label) between 1 and 100),
  points integer not null
    constraint queue_flag_points_range check (points between 0 and 100),
  primary key (org_id, key)
);

comment on table slotoptim_private.queue_flag is 'Priority flags of an organisation and the points each adds to a waiting customer''s score.';

-- One visit in a queue: a provider's queue, or a location's pool (provider_id null) that any
-- provider of the location offering the service can call from.
create table if not exists slotoptim_private.queue_entry (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  provider_id bigint,
  location_id bigint,
  service_id bigint,
  appointment_id bigint,
  customer_id bigint,
  -- What the waiting-room screen shows: a ticket number and a first name, never more.
  ticket text not null
    constraint queue_ticket_format check (ticket ~ '^[A-Z][0-9]{3}$'),
  first_name text
    constraint queue_first_name_length check (length(first_name) between 1 and 40),
  flags text[] not null default '{}',
  source text not null
    constraint queue_source_known check (source in ('staff', 'kiosk', 'link', 'sms', 'walk_in')),
  status text not null default 'waiting'
    constraint queue_status_known check (status in ('waiting', 'called', 'in_service', 'done', 'left')),
  arrived_at timestamptz not null,
  called_at timestamptz,
  started_at timestamptz,
  ended_at timestamptz,
  left_at timestamptz,
  -- Why a visit left the queue: it went away, or it was called and did not come (no-show).
  left_reason text
    constraint queue_left_reason_known check (left_reason in ('left', 'no_show')),
  called_by text,
  -- The first estimate given at check-in, kept to measure the estimates in production.
  first_estimate_minutes real,
  constraint queue_entry_has_queue check (provider_id is not null or location_id is not null),
  constraint queue_entry_left_has_reason check ((status = 'left') = (left_reason is not null)),
  constraint queue_entry_times_ordered check (
    (called_at is null or called_at >= arrived_at)
    and (started_at is null or started_at >= arrived_at)
    and (ended_at is null or started_at is not null and ended_at >= started_at)
  ),
  unique (org_id, id),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, location_id) references slotoptim_private.location (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id),
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade,
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete set null (customer_id)
);

comment on table slotoptim_private.queue_entry is
  'A visit in a check-in queue (provider or location pool): waiting, called, in_service, done or left, each with its time.';

-- An appointment is in a queue at most once while it is live.
create unique index if not exists queue_entry_one_live_per_appointment
  on slotoptim_private.queue_entry (appointment_id) where status in ('waiting', 'called', 'in_service');
create index if not exists queue_entry_live_provider_idx
  on slotoptim_private.queue_entry (org_id, provider_id) where status in ('waiting', 'called', 'in_service');
create index if not exists queue_entry_live_location_idx
  on slotoptim_private.queue_entry (org_id, location_id) where status in ('waiting', 'called', 'in_service');
create index if not exists queue_entry_org_arrived_idx on slotoptim_private.queue_entry (org_id, arrived_at);

-- Heads-up texts already queued, so a provider running late texts a customer once a day.
create table if not exists slotoptim_private.queue_heads_up (
  org_id bigint not null,
  appointment_id bigint not null,
  message_id bigint,
  predicted_delay_minutes integer not null,
  created_at timestamptz not null,
  primary key (org_id, appointment_id),
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade,
  foreign key (org_id, message_id) references slotoptim_private.message (org_id, id) on delete set null (message_id)
);

comment on table slotoptim_private.queue_heads_up is 'Running-late texts queued for booked customers, one per appointment.';

-- The outbox learns one more kind of message: the running-late heads-up.
alter table slotoptim_private.message drop constraint if exists message_kind_known;
alter table slotoptim_private.message add constraint message_kind_known
  check (kind in ('offer', 'filled', 'booked', 'help', 'preferences', 'opt_out', 'opt_in', 'retracted',
                  'running_late'));
