-- Frozen copy of sql/39o_tables_after_commit.sql as of revision 0019. Never edit: add a migration.
-- Work a transaction leaves for after its commit (issue 18): a claim's losers and the audit rows
-- still to be chained.

-- Gaps a claim filled whose other offers are still to be retracted. The claim's transaction
-- writes one row here instead of retracting the gap's other offers (and cancelling their queued
-- messages) itself; the engine retracts them after the commit and deletes the row in the same
-- transaction (slotoptim_private.retract_claimed_gap), so an engine killed half-way retracts
-- them on its next pass. Until then the sender drops the offers' queued messages (claim_messages
-- runs the retraction first) and a late claimant is refused by the gap's status.
create table if not exists slotoptim_private.offer_retraction (
  id bigint generated always as identity,
  org_id bigint not null,
  gap_id bigint not null,
  -- The message the customers who already saw an offer get: 'filled' (someone took the opening).
  kind text not null
    constraint offer_retraction_kind_known check (kind in ('filled', 'retracted')),
  -- The claim's time: the offers are retracted as of it (responded_at, the messages' not_before).
  at timestamptz not null,
  -- The claim's slotoptim.actor: the retraction's audit rows name whoever made the claim.
  actor text
    constraint offer_retraction_actor_length check (length(actor) <= 1000),
  queued_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, gap_id) references slotoptim_private.gap (org_id, id) on delete cascade
);

create index if not exists offer_retraction_gap_idx on slotoptim_private.offer_retraction (gap_id);

-- Audit rows captured by statement-level triggers while a transaction runs, chained into
-- audit_event in one go at its commit (slotoptim_private.audit_seal), which then deletes them: the
-- table is empty outside a running transaction. Unlogged: a crash loses only rows of transactions
-- that never committed. Neither tenants nor analysts may read or write it (not a tenant table).
create unlogged table if not exists slotoptim_private.audit_pending (
  id bigint generated always as identity,
  org_id bigint not null,
  at timestamptz not null,
  actor_kind text not null,
  actor_id text,
  actor_address text,
  entity text not null,
  entity_id bigint,
  action text not null,
  old_values jsonb,
  new_values jsonb,
  -- The first row a transaction captures since its last seal: its deferred trigger seals them all.
  seals boolean not null default false,
  primary key (org_id, id)
);
