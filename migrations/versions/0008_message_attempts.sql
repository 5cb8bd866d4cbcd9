-- Frozen copy of sql/39b_tables_message_attempts.sql as of revision 0008. Never edit: add a migration.
-- What a sender needs to never send a message twice nor lose one (issue 9, items 5 and 6).
--
-- attempt_id is written, and committed, before every call to the provider and cleared when the
-- outcome is known (sent, refused, deferred). A row that still carries one after a timeout, a 5xx
-- or a crash (its lease ended) may or may not have been created at the provider: the next sender
-- asks the provider before sending again. attempt_started_at bounds that look-up.
-- An offer's message whose offer expired before it could be sent is dropped with status 'expired'.

alter table slotoptim_private.message
  add column if not exists attempt_id uuid,
  add column if not exists attempt_started_at timestamptz;

alter table slotoptim_private.message drop constraint if exists message_status_known;
alter table slotoptim_private.message add constraint message_status_known
  check (status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', 'expired'));

comment on column slotoptim_private.message.attempt_id is
  'The provider call under way or of unknown outcome; set before the call, cleared once the outcome is known.';
comment on column slotoptim_private.message.attempt_started_at is
  'When the call of attempt_id started: the provider is searched from then on before any resend.';
