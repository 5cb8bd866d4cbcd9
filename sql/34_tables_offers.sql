-- The fill engine: per-organisation offer settings, campaigns (one per gap being offered),
-- offers (one per customer and campaign), and the outbox of messages.

alter table slotoptim_private.organisation_settings
  add column if not exists auto_offer boolean not null default true,
  add column if not exists offer_strategy text not null default 'cascade'
    constraint settings_offer_strategy_known
      check (offer_strategy in ('sequential', 'broadcast', 'burst', 'cascade', 'staff_approval')),
  add column if not exists score_threshold numeric(5, 2) not null default 55
    constraint settings_threshold_range check (score_threshold between 0 and 100),
  add column if not exists weight_time smallint not null default 30
    constraint settings_weight_time_nonnegative check (weight_time >= 0),
  add column if not exists weight_provider smallint not null default 20
    constraint settings_weight_provider_nonnegative check (weight_provider >= 0),
  add column if not exists weight_service smallint not null default 20
    constraint settings_weight_service_nonnegative check (weight_service >= 0),
  add column if not exists weight_travel smallint not null default 10
    constraint settings_weight_travel_nonnegative check (weight_travel >= 0),
  add column if not exists weight_lead smallint not null default 10
    constraint settings_weight_lead_nonnegative check (weight_lead >= 0),
  add column if not exists weight_response smallint not null default 5
    constraint settings_weight_response_nonnegative check (weight_response >= 0),
  add column if not exists weight_fairness smallint not null default 5
    constraint settings_weight_fairness_nonnegative check (weight_fairness >= 0),
  add column if not exists sequential_window interval not null default interval '15 minutes',
  add column if not exists burst_size integer not null default 5
    constraint settings_burst_size_positive check (burst_size >= 1),
  add column if not exists burst_window interval not null default interval '15 minutes',
  add column if not exists broadcast_window interval not null default interval '30 minutes',
  add column if not exists approval_window interval not null default interval '30 minutes',
  -- Messages go out only inside this local window of the recipient (TCPA: 08:00-21:00).
  add column if not exists send_window_start time not null default '08:00',
  add column if not exists send_window_end time not null default '21:00',
  add column if not exists max_offers_per_day integer not null default 2
    constraint settings_daily_cap_nonnegative check (max_offers_per_day >= 0),
  add column if not exists max_offers_per_week integer not null default 4
    constraint settings_weekly_cap_nonnegative check (max_offers_per_week >= 0),
  add column if not exists fatigue_ignored_limit integer not null default 5
    constraint settings_fatigue_positive check (fatigue_ignored_limit >= 1),
  add column if not exists claim_hold_seconds integer not null default 300
    constraint settings_hold_range check (claim_hold_seconds between 10 and 3600),
  add column if not exists message_max_attempts integer not null default 5
    constraint settings_attempts_range check (message_max_attempts between 1 and 20);

-- Cascade waves an organisation chose; without rows, seed 002's plan applies
-- (see slotoptim_private.cascade_waves).
create table if not exists slotoptim_private.cascade_wave (
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  wave smallint not null
    constraint cascade_wave_number_range check (wave between 1 and 10),
  -- Null: everyone who qualifies.
  max_candidates integer
    constraint cascade_wave_size_positive check (max_candidates >= 1),
  min_score numeric(5, 2) not null
    constraint cascade_wave_score_range check (min_score between 0 and 100),
  response_window interval not null
    constraint cascade_wave_window_positive check (response_window > interval '0'),
  allow_email boolean not null default false,
  primary key (org_id, wave)
);

-- One campaign offers one gap. Its timing lives here, so a restarted listener loses nothing.
create table if not exists slotoptim_private.offer_campaign (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  gap_id bigint not null,
  strategy text not null
    constraint campaign_strategy_known check (strategy in ('sequential', 'broadcast', 'burst', 'cascade', 'staff_approval')),
  status text not null default 'running'
    constraint campaign_status_known
      check (status in ('running', 'awaiting_approval', 'filled', 'released', 'expired', 'cancelled')),
  wave integer not null default 0,
  started_at timestamptz not null,
  wave_started_at timestamptz,
  -- When the engine must look at this campaign again (a window ends, an offer expires).
  next_action_at timestamptz,
  closed_at timestamptz,
  unique (org_id, id),
  foreign key (org_id, gap_id) references slotoptim_private.gap (org_id, id) on delete cascade
);

create unique index if not exists offer_campaign_one_live_per_gap
  on slotoptim_private.offer_campaign (gap_id) where status in ('running', 'awaiting_approval');
create index if not exists offer_campaign_due_idx
  on slotoptim_private.offer_campaign (next_action_at) where status in ('running', 'awaiting_approval');

create table if not exists slotoptim_private.offer (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  campaign_id bigint not null,
  gap_id bigint not null,
  waitlist_entry_id bigint not null,
  customer_id bigint not null,
  service_id bigint not null,
  -- The appointment this offer would book.
  slot tstzrange not null
    constraint offer_slot_shape check (not isempty(slot) and not lower_inf(slot) and not upper_inf(slot)),
  wave integer not null,
  score numeric(6, 2) not null,
  -- Points per dimension, so every offer explains itself.
  score_detail jsonb not null,
  channel text not null
    constraint offer_channel_known check (channel in ('sms', 'whatsapp', 'email')),
  status text not null default 'open'
    constraint offer_status_known
      check (status in ('open', 'claimed', 'awaiting_approval', 'declined', 'expired', 'retracted')),
  created_at timestamptz not null,
  -- Quiet hours may defer sending; the response window starts when it is sent.
  send_at timestamptz not null,
  expires_at timestamptz not null,
  clicked_at timestamptz,
  responded_at timestamptz,
  appointment_id bigint,
  unique (campaign_id, customer_id),
  unique (org_id, id),
  foreign key (org_id, campaign_id) references slotoptim_private.offer_campaign (org_id, id) on delete cascade,
  foreign key (org_id, gap_id) references slotoptim_private.gap (org_id, id) on delete cascade,
  foreign key (org_id, waitlist_entry_id) references slotoptim_private.waitlist_entry (org_id, id) on delete cascade,
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade,
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (appointment_id)
);

create index if not exists offer_customer_recent_idx on slotoptim_private.offer (customer_id, created_at);
-- The wait-fairness score divides by the longest wait among active entries: read it off an index.
create index if not exists waitlist_entry_active_added_idx
  on slotoptim_private.waitlist_entry (org_id, added_at) where status = 'active';
create index if not exists offer_gap_status_idx on slotoptim_private.offer (gap_id, status);
create index if not exists offer_open_expiry_idx on slotoptim_private.offer (expires_at) where status = 'open';

-- The outbox. A row is written in the transaction that decides to send; a sender delivers it and
-- records the provider's id, which is unique, so a retry never sends twice.
create table if not exists slotoptim_private.message (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  offer_id bigint,
  kind text not null
    constraint message_kind_known
      check (kind in ('offer', 'filled', 'booked', 'help', 'preferences', 'opt_out', 'opt_in', 'retracted')),
  channel text not null
    constraint message_channel_known check (channel in ('sms', 'whatsapp', 'email', 'console')),
  to_address text not null,
  -- Rendered by the sender at its first attempt: offer links are signed outside the database.
  body text,
  status text not null default 'queued'
    constraint message_status_known
      check (status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')),
  attempts integer not null default 0,
  not_before timestamptz not null,
  locked_by text,
  locked_until timestamptz,
  provider_id text unique,
  last_error text,
  created_at timestamptz not null,
  sent_at timestamptz,
  delivered_at timestamptz,
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade,
  foreign key (org_id, offer_id) references slotoptim_private.offer (org_id, id) on delete cascade
);

create index if not exists message_due_idx
  on slotoptim_private.message (not_before) where status in ('queued', 'sending');
create index if not exists message_offer_idx on slotoptim_private.message (offer_id);

-- Secrets the service shares across replicas (the claim-link signing key).
create table if not exists slotoptim_private.instance_secret (
  name text primary key,
  value bytea not null
    constraint instance_secret_length check (length(value) >= 32),
  created_at timestamptz not null default now()
);
