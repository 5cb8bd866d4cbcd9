-- Frozen copy of sql/39k_tables_moveup_reminders.sql as of revision 0015. Never edit: add a migration.
-- Issue 12, items 1 and 2: move-up offers ("earlier if possible" for customers who already hold a
-- later appointment) and reminders that double as cancellation detectors.
--
-- A move-up enrolment is a waitlist entry that names the appointment it would replace
-- (moveup_appointment_id): it has every preference field of an entry, and offers keep pointing at a
-- waitlist entry. Claiming such an offer books the new slot and cancels the held one in one
-- transaction (slotoptim_private.moveup_complete); each move is recorded in moveup_move, which
-- links moves into chains (the later slot a move frees opens the next gap).

alter table slotoptim_private.organisation_settings
  -- Every new booking of a customer is enrolled in move-up (as Epic and RedSpot offer).
  add column if not exists moveup_auto_enrol boolean not null default false,
  -- Among move-up candidates, prefer those whose appointment is furthest away (most days gained)
  -- or closest (the freed slot is soon, so it is easier to fill again).
  add column if not exists moveup_prefer text not null default 'furthest'
    constraint settings_moveup_prefer_known check (moveup_prefer in ('furthest', 'closest')),
  add column if not exists weight_earlier smallint not null default 20
    constraint settings_weight_earlier_nonnegative check (weight_earlier >= 0),
  -- A move must gain at least this much; less is not worth the customer's rearranging.
  add column if not exists moveup_min_gain interval not null default interval '1 day'
    constraint settings_moveup_min_gain_nonnegative check (moveup_min_gain >= interval '0'),
  -- A customer moved is not offered another move for this long.
  add column if not exists moveup_cooldown interval not null default interval '7 days'
    constraint settings_moveup_cooldown_nonnegative check (moveup_cooldown >= interval '0'),
  -- The longest chain of moves one cancellation may start.
  add column if not exists moveup_max_chain integer not null default 10
    constraint settings_moveup_max_chain_range check (moveup_max_chain between 1 and 100),
  -- Off until the practice turns reminders on (it may already send its own).
  add column if not exists reminders_enabled boolean not null default false;

alter table slotoptim_private.waitlist_entry
  add column if not exists moveup_appointment_id bigint;

alter table slotoptim_private.waitlist_entry drop constraint if exists waitlist_entry_moveup_appointment_fkey;
alter table slotoptim_private.waitlist_entry
  add constraint waitlist_entry_moveup_appointment_fkey foreign key (org_id, moveup_appointment_id)
  references slotoptim_private.appointment (org_id, id) on delete cascade;

-- One live enrolment per appointment.
create unique index if not exists waitlist_entry_one_moveup_per_appointment
  on slotoptim_private.waitlist_entry (org_id, moveup_appointment_id)
  where moveup_appointment_id is not null and status = 'active';

comment on column slotoptim_private.waitlist_entry.moveup_appointment_id is
  'Set for a move-up enrolment: the booked appointment an earlier slot would replace.';

-- One claimed move-up: the customer left from_appointment for to_appointment in one transaction.
create table if not exists slotoptim_private.moveup_move (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  customer_id bigint not null,
  offer_id bigint not null,
  -- The gap the customer moved into.
  gap_id bigint not null,
  from_appointment_id bigint not null,
  to_appointment_id bigint not null,
  from_start timestamptz not null,
  to_start timestamptz not null,
  -- The gap the chain began with (a cancellation, not a move), and this move's place in the chain (1 = first).
  chain_root_gap_id bigint not null,
  chain_position integer not null
    constraint moveup_move_position_positive check (chain_position >= 1),
  moved_at timestamptz not null,
  constraint moveup_move_earlier check (to_start < from_start),
  unique (org_id, id),
  unique (org_id, offer_id),
  unique (org_id, from_appointment_id),
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade,
  foreign key (org_id, offer_id) references slotoptim_private.offer (org_id, id) on delete cascade,
  foreign key (org_id, gap_id) references slotoptim_private.gap (org_id, id) on delete cascade,
  foreign key (org_id, from_appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade,
  foreign key (org_id, to_appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade,
  foreign key (org_id, chain_root_gap_id) references slotoptim_private.gap (org_id, id) on delete cascade
);

create index if not exists moveup_move_customer_idx on slotoptim_private.moveup_move (customer_id, moved_at);

comment on table slotoptim_private.moveup_move is
  'Claimed move-ups: a customer moved from a later appointment to an earlier one, with its place in the chain.';

-- The reminder plan of an organisation; without rows, the default plan of
-- slotoptim_private.reminder_plan applies (email 48 h, SMS 24 h and 2 h, an extra SMS 6 h before
-- for high-risk appointments). channel 'call' is a task for staff, not a message.
create table if not exists slotoptim_private.reminder_rule (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  channel text not null
    constraint reminder_rule_channel_known check (channel in ('sms', 'whatsapp', 'email', 'call')),
  before interval not null
    constraint reminder_rule_before_range check (before > interval '0' and before <= interval '30 days'),
  -- Only for appointments whose no-show risk is at or above learning_settings.high_risk_threshold
  -- (outreach only: never used to refuse or move care).
  high_risk_only boolean not null default false,
  unique (org_id, id),
  unique (org_id, channel, before, high_risk_only)
);

comment on table slotoptim_private.reminder_rule is
  'An organisation''s reminder plan: channel and time before the appointment, optionally only for high no-show risk.';

-- A reminder decided for an appointment (one per appointment and plan step): its message, or the
-- staff task when the step is a call.
create table if not exists slotoptim_private.reminder (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  appointment_id bigint not null,
  channel text not null
    constraint reminder_channel_known check (channel in ('sms', 'whatsapp', 'email', 'call')),
  before interval not null,
  high_risk_only boolean not null,
  message_id bigint,
  created_at timestamptz not null,
  unique (org_id, id),
  unique (org_id, appointment_id, channel, before, high_risk_only),
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade,
  foreign key (org_id, message_id) references slotoptim_private.message (org_id, id) on delete set null (message_id)
);

comment on table slotoptim_private.reminder is 'Reminders decided per appointment and plan step (message or staff call).';

-- Work for the front desk: a call to a high-risk customer, or a customer who asked for another time.
create table if not exists slotoptim_private.staff_task (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  appointment_id bigint not null,
  kind text not null
    constraint staff_task_kind_known check (kind in ('reminder_call', 'reschedule')),
  due_at timestamptz not null,
  created_at timestamptz not null,
  done_at timestamptz,
  unique (org_id, id),
  foreign key (org_id, appointment_id) references slotoptim_private.appointment (org_id, id) on delete cascade
);

create index if not exists staff_task_open_idx on slotoptim_private.staff_task (org_id, due_at) where done_at is null;

comment on table slotoptim_private.staff_task is 'Front-desk work: reminder calls to high-risk customers, reschedule requests.';

-- The outbox learns reminders, which name their appointment.
alter table slotoptim_private.message add column if not exists appointment_id bigint;
alter table slotoptim_private.message drop constraint if exists message_appointment_fkey;
alter table slotoptim_private.message
  add constraint message_appointment_fkey foreign key (org_id, appointment_id)
  references slotoptim_private.appointment (org_id, id) on delete cascade;
create index if not exists message_appointment_idx on slotoptim_private.message (appointment_id)
  where appointment_id is not null;

comment on column slotoptim_private.message.appointment_id is
  'The appointment a reminder (or the answer to a reminder reply) is about.';

alter table slotoptim_private.message drop constraint if exists message_kind_known;
alter table slotoptim_private.message add constraint message_kind_known
  check (kind in ('offer', 'filled', 'booked', 'help', 'preferences', 'opt_out', 'opt_in', 'retracted',
                  'running_late', 'reminder'));
