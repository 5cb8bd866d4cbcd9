-- Frozen copy of sql/39m_tables_payments.sql as of revision 0017. Never edit: add a migration.
-- No-show protection (issue 13): the practice's payment policy, the decision taken for each
-- booking, the Stripe Checkout sessions that hold a slot while a customer pays, the cards on
-- file (Stripe ids, brand and last four digits only: never a card number), the charges made by
-- the rules, and the Stripe events received. Stripe calls go through the integrations outbox
-- (slotoptim_private.external_write) with an idempotency key derived from the charge's row.

-- The policy of an organisation (service_id null) or of one service (overrides the organisation's).
create table if not exists slotoptim_private.payment_policy (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  service_id bigint,
  -- Cancelling within this many minutes of booking is free (seed 003: 10-15 minutes).
  grace_minutes integer not null default 15
    constraint payment_policy_grace_range check (grace_minutes between 0 and 1440),
  -- A late cancellation costs far_percent of the price when made at least late_cancel_hours
  -- before the start, near_percent when made later (seed 003: 50 % / 100 % around 24 h).
  late_cancel_hours integer not null default 24
    constraint payment_policy_late_hours_range check (late_cancel_hours between 0 and 720),
  late_cancel_far_percent integer not null default 50
    constraint payment_policy_far_range check (late_cancel_far_percent between 0 and 100),
  late_cancel_near_percent integer not null default 100
    constraint payment_policy_near_range check (late_cancel_near_percent between 0 and 100),
  no_show_percent integer not null default 100
    constraint payment_policy_no_show_range check (no_show_percent between 0 and 100),
  -- No-shows are counted over this rolling window (seed 003: six months).
  window_days integer not null default 183
    constraint payment_policy_window_range check (window_days between 1 and 3660),
  -- With at least this many no-shows in the window: a card on file, a deposit, prepayment (null: never).
  card_after_no_shows integer default 1
    constraint payment_policy_card_count check (card_after_no_shows between 1 and 100),
  deposit_after_no_shows integer default 2
    constraint payment_policy_deposit_count check (deposit_after_no_shows between 1 and 100),
  prepay_after_no_shows integer default 3
    constraint payment_policy_prepay_count check (prepay_after_no_shows between 1 and 100),
  -- The deposit held, as a share of the price.
  deposit_percent integer not null default 50
    constraint payment_policy_deposit_range check (deposit_percent between 1 and 100),
  -- Waitlist tiers that always need a card on file, or a deposit.
  card_tiers text[] not null default '{}',
  deposit_tiers text[] not null default '{}',
  -- Prices from which a card on file, or a deposit, is needed (null: price alone never requires it).
  card_min_price numeric(12, 2)
    constraint payment_policy_card_price check (card_min_price >= 0),
  deposit_min_price numeric(12, 2)
    constraint payment_policy_deposit_price check (deposit_min_price >= 0),
  -- Optional: a predicted no-show risk at or above this threshold requires risk_requirement.
  risk_threshold real
    constraint payment_policy_risk_range check (risk_threshold between 0 and 1),
  risk_requirement text not null default 'card'
    constraint payment_policy_risk_requirement check (risk_requirement in ('card', 'deposit')),
  updated_at timestamptz not null,
  constraint payment_policy_tiers_known check (
    card_tiers <@ array['platinum', 'gold', 'silver', 'standard']
    and deposit_tiers <@ array['platinum', 'gold', 'silver', 'standard']),
  unique (org_id, id),
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade
);

create unique index if not exists payment_policy_one_per_service
  on slotoptim_private.payment_policy (org_id, service_id) nulls not distinct;

comment on table slotoptim_private.payment_policy is
  'No-show protection policy of an organisation (service_id null) or a service: grace, fees, and when a card, deposit or prepayment is required.';

-- What slotoptim.payment_requirement decided for one customer, service and slot, and why.
create table if not exists slotoptim_private.payment_decision (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  service_id bigint not null,
  slot tstzrange not null,
  offer_id bigint,
  -- Set when the booking is made: the decision is stored with the booking.
  appointment_id bigint,
  policy_id bigint,
  requirement text not null
    constraint payment_decision_requirement_known check (requirement in ('none', 'card', 'deposit', 'prepayment')),
  -- Held (deposit) or paid (prepayment), in the currency's minor units; 0 for none and card.
  amount_minor bigint not null default 0
    constraint payment_decision_amount_range check (amount_minor >= 0),
  currency text not null,
  rule text not null,
  explanation text not null,
  no_shows integer not null default 0,
  risk real,
  decided_at timestamptz not null,
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade,
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (appointment_id)
);

create index if not exists payment_decision_appointment_idx on slotoptim_private.payment_decision (appointment_id);
create index if not exists payment_decision_customer_idx on slotoptim_private.payment_decision (customer_id, decided_at);

comment on table slotoptim_private.payment_decision is
  'A payment requirement decided for a customer, service and slot, with the rule that applied; linked to the booking it protects.';

-- A card on file: Stripe's customer and payment method ids, brand and last four digits. Never a number.
create table if not exists slotoptim_private.payment_card (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  stripe_customer text not null
    constraint payment_card_customer_format check (stripe_customer ~ '^cus_[A-Za-z0-9]{1,250}$'),
  payment_method text not null
    constraint payment_card_method_format check (payment_method ~ '^pm_[A-Za-z0-9]{1,250}$'),
  brand text
    constraint payment_card_brand_length check (length(brand) <= 40),
  last4 text
    constraint payment_card_last4_format check (last4 ~ '^[0-9]{4}$'),
  saved_at timestamptz not null,
  unique (org_id, customer_id),
  unique (org_id, id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade
);

comment on table slotoptim_private.payment_card is
  'A customer''s card on file at Stripe: ids, brand and last four digits only.';

-- A Stripe Checkout session opened for an offer: while it is open the gap is held (the pending
-- state; Redis holds the same for the page), nothing is booked until the webhook confirms.
create table if not exists slotoptim_private.payment_checkout (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  decision_id bigint not null,
  offer_id bigint not null,
  gap_id bigint not null,
  customer_id bigint not null,
  mode text not null
    constraint payment_checkout_mode_known check (mode in ('setup', 'payment')),
  amount_minor bigint not null default 0
    constraint payment_checkout_amount_range check (amount_minor >= 0),
  currency text not null,
  -- creating: row written, session not yet recorded; open: customer at Stripe; booked: webhook
  -- confirmed and the claim booked; lost: confirmed but the slot was gone (hold released);
  -- expired: the session ended unpaid.
  status text not null default 'creating'
    constraint payment_checkout_status_known check (status in ('creating', 'open', 'booked', 'lost', 'expired')),
  stripe_session text unique
    constraint payment_checkout_session_format check (stripe_session ~ '^cs_[A-Za-z0-9_]{1,250}$'),
  url text,
  expires_at timestamptz not null,
  stripe_customer text,
  setup_intent text,
  payment_intent text,
  appointment_id bigint,
  -- The deposit or prepayment hold of a booked checkout (manual capture).
  hold_status text not null default 'none'
    constraint payment_checkout_hold_known check (hold_status in ('none', 'authorised', 'captured', 'released', 'lapsed')),
  capture_before timestamptz,
  created_at timestamptz not null,
  closed_at timestamptz,
  closed_reason text,
  unique (org_id, id),
  foreign key (org_id, decision_id) references slotoptim_private.payment_decision (org_id, id) on delete cascade,
  foreign key (org_id, offer_id) references slotoptim_private.offer (org_id, id) on delete cascade,
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (appointment_id)
);

-- The pending state: one live checkout per gap, so a second claimant waits (or sees it held).
create unique index if not exists payment_checkout_one_live_per_gap
  on slotoptim_private.payment_checkout (gap_id) where status in ('creating', 'open');
create index if not exists payment_checkout_appointment_idx on slotoptim_private.payment_checkout (appointment_id);
create index if not exists payment_checkout_intent_idx on slotoptim_private.payment_checkout (payment_intent);

comment on table slotoptim_private.payment_checkout is
  'A Stripe Checkout session for an offer (card on file or deposit hold): the pending state that holds the gap until the webhook confirms.';

-- A charge, capture or release made by the rules. The outbox row that sends it carries the key
-- slotoptim-charge-<id>: a resend after a crash is the same request to Stripe, never a second charge.
create table if not exists slotoptim_private.payment_charge (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  appointment_id bigint,
  checkout_id bigint,
  customer_id bigint not null,
  kind text not null
    constraint payment_charge_kind_known check (
      kind in ('no_show_fee', 'late_cancel_fee', 'deposit_capture', 'prepayment_capture', 'hold_release')),
  amount_minor bigint not null
    constraint payment_charge_amount_range check (amount_minor >= 0),
  currency text not null,
  -- queued -> sent -> succeeded | requires_action | failed; waived by staff; cancelled (superseded).
  status text not null default 'queued'
    constraint payment_charge_status_known check (
      status in ('queued', 'sent', 'succeeded', 'requires_action', 'failed', 'waived', 'cancelled')),
  reason text not null,
  payment_intent text,
  error_type text,
  error_code text,
  decline_code text,
  error_message text,
  waived_by text,
  waive_reason text
    constraint payment_charge_waive_reason_length check (length(waive_reason) between 3 and 500),
  refunded_minor bigint not null default 0,
  disputed boolean not null default false,
  created_at timestamptz not null,
  settled_at timestamptz,
  constraint payment_charge_waiver_explained check (status <> 'waived' or waive_reason is not null),
  unique (org_id, id),
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete set null (appointment_id),
  foreign key (org_id, checkout_id) references slotoptim_private.payment_checkout (org_id, id) on delete set null (checkout_id)
);

-- One fee (or capture, or release) of each kind per appointment: a status set twice charges once.
create unique index if not exists payment_charge_one_per_kind
  on slotoptim_private.payment_charge (appointment_id, kind) where appointment_id is not null;
create unique index if not exists payment_charge_one_release_per_checkout
  on slotoptim_private.payment_charge (checkout_id, kind) where checkout_id is not null and appointment_id is null;
create index if not exists payment_charge_intent_idx on slotoptim_private.payment_charge (payment_intent);
create index if not exists payment_charge_org_created_idx on slotoptim_private.payment_charge (org_id, created_at);

comment on table slotoptim_private.payment_charge is
  'A fee charged, a deposit captured or a hold released by the rules; sent through the outbox with key slotoptim-charge-<id>.';

-- Each Stripe event once (Stripe retries and may deliver twice, in any order).
create table if not exists slotoptim_private.stripe_event (
  event_id text primary key
    constraint stripe_event_id_format check (event_id ~ '^evt_[A-Za-z0-9_]{1,250}$'),
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  type text not null
    constraint stripe_event_type_length check (length(type) between 1 and 100),
  object_id text,
  created timestamptz not null,
  received_at timestamptz not null,
  outcome text
);

create index if not exists stripe_event_org_received_idx on slotoptim_private.stripe_event (org_id, received_at);

comment on table slotoptim_private.stripe_event is
  'Stripe webhook events received (each id once) and what processing them did.';
