-- Frozen copy of sql/39l_tables_selfservice.sql as of revision 0016. Never edit: add a migration.
-- Self-service booking, consent records and message templates (issue 12, items 3-5).
--
-- Consent is a history, not a flag: every request, grant and revocation is a row with its time,
-- its source (booking page, SMS reply, staff, email link...) and the version of the wording the
-- customer saw. The customer's consent_* columns stay the fast answer the sender checks; a trigger
-- (sql/57l_fn_consent.sql) writes the history whenever they change, whoever changes them.

alter table slotoptim_private.organisation_settings
  -- The public page /book/{org}: off, and the page answers 404 like an unknown organisation.
  add column if not exists booking_page_enabled boolean not null default true,
  -- How far ahead the booking page looks for openings.
  add column if not exists booking_horizon_days integer not null default 14
    constraint settings_booking_horizon_range check (booking_horizon_days between 1 and 90),
  -- After a customer books, their other active waitlist entries close this much later unless they
  -- ask to keep them (seed 003, edge case 8).
  add column if not exists waitlist_dedup_after interval not null default interval '24 hours'
    constraint settings_dedup_range check (waitlist_dedup_after between interval '0' and interval '30 days');

-- The language the customer's messages and pages use (ISO 639-1); null: the organisation's.
alter table slotoptim_private.customer
  add column if not exists language text
    constraint customer_language_format check (language is null or language ~ '^[a-z]{2}$');

alter table slotoptim_private.organisation_settings
  add column if not exists default_language text not null default 'en'
    constraint settings_language_format check (default_language ~ '^[a-z]{2}$');

-- Set on a customer's other active entries when they book; the engine closes them then.
alter table slotoptim_private.waitlist_entry
  add column if not exists closes_at timestamptz
    constraint waitlist_closes_at_range check (slotoptim_private.is_supported_instant(closes_at));

create index if not exists waitlist_entry_closing_idx
  on slotoptim_private.waitlist_entry (closes_at) where status = 'active' and closes_at is not null;

-- Every consent request, grant and revocation of a customer.
create table if not exists slotoptim_private.consent_event (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  -- 'all': a revocation of every channel at once (STOP and friends).
  channel text not null
    constraint consent_event_channel_known check (channel in ('sms', 'whatsapp', 'email', 'all')),
  action text not null
    constraint consent_event_action_known check (action in ('requested', 'granted', 'revoked')),
  -- Where it came from: booking_page, sms_reply, claim_page, email_link, staff, api, import, system.
  source text not null
    constraint consent_event_source_format check (source ~ '^[a-z][a-z0-9_-]{0,63}$'),
  -- The version of the consent text the customer saw (null when none was shown, e.g. STOP).
  wording_version text
    constraint consent_event_wording_format check (wording_version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  -- Who made the change (the session's slotoptim.actor).
  actor jsonb,
  at timestamptz not null,
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade
);

comment on table slotoptim_private.consent_event is
  'Consent history per customer and channel: requested, granted, revoked, with time, source and wording version.';

create index if not exists consent_event_customer_idx on slotoptim_private.consent_event (customer_id, at);

-- A pending double opt-in: the customer asked for texts on a page and must reply YES to confirm.
create table if not exists slotoptim_private.consent_request (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  channel text not null
    constraint consent_request_channel_known check (channel in ('sms', 'whatsapp')),
  source text not null
    constraint consent_request_source_format check (source ~ '^[a-z][a-z0-9_-]{0,63}$'),
  wording_version text not null
    constraint consent_request_wording_format check (wording_version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  status text not null default 'pending'
    constraint consent_request_status_known check (status in ('pending', 'confirmed', 'expired', 'revoked')),
  requested_at timestamptz not null,
  expires_at timestamptz not null,
  decided_at timestamptz,
  constraint consent_request_expiry_order check (expires_at > requested_at),
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade
);

comment on table slotoptim_private.consent_request is
  'Pending and past double opt-in requests ("Reply YES to confirm") for SMS and WhatsApp.';

create unique index if not exists consent_request_one_pending
  on slotoptim_private.consent_request (customer_id, channel) where status = 'pending';

-- An organisation's own wording of a message kind in one language. Without a row the built-in
-- text (listener/message_catalogue.py) applies. Placeholders: {practice} {provider} {service}
-- {when} {until} {link} {stop}. An SMS text must fit one GSM-7 segment unless multipart is set.
create table if not exists slotoptim_private.message_template (
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  kind text not null
    constraint message_template_kind_format check (kind ~ '^[a-z][a-z_]{0,31}$'),
  language text not null
    constraint message_template_language_format check (language ~ '^[a-z]{2}$'),
  channel text not null
    constraint message_template_channel_known check (channel in ('sms', 'email')),
  body text not null
    constraint message_template_body_length check (length(body) between 1 and 2000),
  -- Segments of the body rendered with the longest sample values, computed when it was saved.
  segments integer not null
    constraint message_template_segments_positive check (segments >= 1),
  -- The practice accepts that this SMS costs more than one segment.
  multipart boolean not null default false,
  updated_at timestamptz not null,
  constraint message_template_one_segment check (channel = 'email' or multipart or segments = 1),
  primary key (org_id, kind, language, channel)
);

comment on table slotoptim_private.message_template is
  'An organisation''s wording of a message kind per language and channel; SMS must be one segment or flagged multipart.';

-- The outbox learns the double opt-in request and the "your new time was cancelled" message
-- (and keeps issue 12's reminders, added in 39k).
alter table slotoptim_private.message drop constraint if exists message_kind_known;
alter table slotoptim_private.message add constraint message_kind_known
  check (kind in ('offer', 'filled', 'booked', 'help', 'preferences', 'opt_out', 'opt_in', 'retracted',
                  'running_late', 'reminder', 'consent_request', 'rebook_alternatives'));

-- Appointments booked on the public page are told apart from staff and waitlist bookings.
alter table slotoptim_private.appointment drop constraint if exists appointment_source_known;
alter table slotoptim_private.appointment add constraint appointment_source_known
  check (source in ('staff', 'import', 'waitlist', 'portal', 'external', 'booking_page'));
