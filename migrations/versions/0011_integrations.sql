-- Frozen copy of sql/39f_tables_integrations.sql as of revision 0012. Never edit: add a migration.
-- External systems (calendars, FHIR servers): the connections, the push channels they call us
-- on, the mirror of their items mapped to our appointments, and the outbox of writes to them.
-- Generic on purpose: a new kind of connection is a new `kind` value and a Python adapter, not a
-- new table (see docs/integrations.md).

-- An external busy event blocks time like any appointment, but it is no SlotOptim booking: it has
-- no service, and inner joins on service (every analytic view) leave it out.
alter table slotoptim_private.appointment
  alter column service_id drop not null,
  drop constraint if exists appointment_source_known,
  add constraint appointment_source_known check (source in ('staff', 'import', 'waitlist', 'portal', 'external'));
alter table slotoptim_private.appointment
  drop constraint if exists appointment_service_required,
  add constraint appointment_service_required check (service_id is not null or source = 'external');

-- One linked external system: a provider's calendar, or an organisation-wide server (no provider).
create table if not exists slotoptim_private.external_connection (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  -- Null: the connection serves the whole organisation (a FHIR server, say).
  provider_id bigint,
  -- What it is for; one connection per provider (or organisation) and purpose.
  purpose text not null
    constraint external_connection_purpose_format check (purpose ~ '^[a-z][a-z0-9_]{0,31}$'),
  -- Which adapter speaks to it: google, microsoft, caldav, ics, fhir ...
  kind text not null
    constraint external_connection_kind_format check (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
  -- Non-secret settings (calendar id, base URL, user name, scopes). Never a secret.
  config jsonb not null default '{}'
    constraint external_connection_config_object check (jsonb_typeof(config) = 'object'),
  -- AES-GCM ciphertext (12-byte nonce || ciphertext+tag) of a JSON object of secrets (refresh
  -- token, access token, password), sealed by slotoptim.integrations.secrets with a key from the
  -- environment; secret_key_id names that key so keys can rotate.
  secret bytea,
  secret_key_id text,
  state text not null default 'ok'
    constraint external_connection_state_known check (state in ('ok', 'broken', 'disabled')),
  last_error text,
  last_error_at timestamptz,
  -- Opaque resume point of the inbound sync (Google nextSyncToken, Graph deltaLink, WebDAV sync-token).
  cursor text,
  -- Incremented by each full sync; mirror rows not seen by the latest full sync are released.
  sync_generation integer not null default 0,
  last_sync_at timestamptz,
  last_full_sync_at timestamptz,
  -- A push said something changed: sync as soon as possible (the row remembers, NOTIFY only wakes).
  sync_requested_at timestamptz,
  -- Throttling: nothing is sent to or pulled from the connection before this (429, rateLimitExceeded).
  backoff_until timestamptz,
  consecutive_failures integer not null default 0,
  items_imported bigint not null default 0,
  items_released bigint not null default 0,
  writes_done bigint not null default 0,
  conflicts bigint not null default 0,
  created_at timestamptz not null,
  unique (org_id, id),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade
);

create unique index if not exists external_connection_one_per_purpose
  on slotoptim_private.external_connection (org_id, provider_id, purpose) nulls not distinct;

comment on table slotoptim_private.external_connection is
  'A linked external system (calendar, FHIR server) of a provider or organisation: settings, sealed secrets, sync state.';

-- Push channels the external system calls us on (Google watch channels, Graph subscriptions).
-- The shared secret it echoes (X-Goog-Channel-Token, clientState) is stored as a SHA-256 digest.
create table if not exists slotoptim_private.external_channel (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  connection_id bigint not null,
  -- Our id for the channel (Google channel id, Graph subscription id).
  channel_key text not null unique
    constraint external_channel_key_length check (length(channel_key) between 1 and 200),
  -- The system's id for what is watched (Google resourceId); null when it has none.
  resource_id text,
  token_sha256 bytea not null
    constraint external_channel_token_length check (length(token_sha256) = 32),
  expires_at timestamptz not null,
  status text not null default 'active'
    constraint external_channel_status_known check (status in ('active', 'replaced', 'stopped')),
  last_message_number bigint,
  last_message_at timestamptz,
  created_at timestamptz not null,
  unique (org_id, id),
  foreign key (org_id, connection_id) references slotoptim_private.external_connection (org_id, id) on delete cascade
);

create index if not exists external_channel_live_idx
  on slotoptim_private.external_channel (connection_id, expires_at) where status = 'active';

-- The mirror: every external item we know, mapped to our appointment. origin 'external' items are
-- imported busy time (appointments of source 'external'); origin 'slotoptim' items are our own
-- bookings written out, so their echo in the next delta is recognised, not imported twice.
create table if not exists slotoptim_private.external_item (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  connection_id bigint not null,
  external_id text not null
    constraint external_item_id_length check (length(external_id) between 1 and 1024),
  etag text,
  origin text not null
    constraint external_item_origin_known check (origin in ('external', 'slotoptim')),
  appointment_id bigint,
  -- The last busy period seen; kept after deletion so a bare tombstone still says what was freed.
  period tstzrange,
  -- 'busy' blocks, 'free' is known but not blocking (cancelled, transparent, declined),
  -- 'conflict' is busy time that overlaps a SlotOptim booking and could not be imported.
  state text not null
    constraint external_item_state_known check (state in ('busy', 'free', 'conflict')),
  seen_generation integer not null default 0,
  updated_at timestamptz not null,
  unique (connection_id, external_id),
  unique (org_id, id),
  foreign key (org_id, connection_id) references slotoptim_private.external_connection (org_id, id) on delete cascade,
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (appointment_id)
);

create index if not exists external_item_appointment_idx on slotoptim_private.external_item (appointment_id);

comment on table slotoptim_private.external_item is
  'Mirror of an external system''s items (events) mapped to our appointments, with etag and last known period.';

-- The outbox of writes to external systems. A row is written in the transaction that changes what
-- must be written; a worker claims it (SKIP LOCKED, lease), builds the request from the current
-- state of its subject, sends it with the idempotency key, and records the external id.
create table if not exists slotoptim_private.external_write (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  connection_id bigint not null,
  -- Which handler sends it: 'calendar_event', 'fhir_appointment' ...
  kind text not null
    constraint external_write_kind_format check (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
  -- What it writes, e.g. 'appointment:42'. Queued rows of one subject coalesce into one.
  subject text not null
    constraint external_write_subject_length check (length(subject) between 1 and 200),
  -- Sent with the request (Idempotency-Key, client-chosen event id, transactionId, UID), so a
  -- retry after a crash between "sent" and "recorded" never creates a second item.
  idempotency_key text not null
    constraint external_write_key_length check (length(idempotency_key) between 1 and 200),
  payload jsonb not null default '{}',
  status text not null default 'queued'
    constraint external_write_status_known check (status in ('queued', 'sending', 'done', 'failed', 'cancelled')),
  attempts integer not null default 0,
  max_attempts integer not null default 8
    constraint external_write_attempts_range check (max_attempts between 1 and 50),
  not_before timestamptz not null,
  locked_by text,
  locked_until timestamptz,
  external_id text,
  last_error text,
  created_at timestamptz not null,
  done_at timestamptz,
  unique (org_id, id),
  foreign key (org_id, connection_id) references slotoptim_private.external_connection (org_id, id) on delete cascade
);

create unique index if not exists external_write_one_queued_per_subject
  on slotoptim_private.external_write (connection_id, kind, subject) where status = 'queued';
create index if not exists external_write_due_idx
  on slotoptim_private.external_write (not_before) where status in ('queued', 'sending');

comment on table slotoptim_private.external_write is
  'Outbox of writes to external systems: claimed with SKIP LOCKED and a lease, sent with an idempotency key.';
