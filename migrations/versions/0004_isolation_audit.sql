-- Frozen copy of sql/36_tables_audit.sql as of revision 0004. Never edit: add a migration.
-- Tenant isolation and the audit trail: which organisation each analyst login belongs to, and the
-- append-only, hash-chained record of every change to appointments, offers, consent and settings.

-- One row per analyst login (a LOGIN role that is a member of slotoptim_analyst), created by
-- slotoptim.create_analyst_login. Row-level security reads it to confine the login to its
-- organisation whatever the session sets.
create table if not exists slotoptim_private.analyst_login (
  role_name name primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  created_at timestamptz not null default now()
);

create index if not exists analyst_login_org_idx on slotoptim_private.analyst_login (org_id);

-- The audit trail. Written only by triggers (slotoptim_private.audit_row), at commit, in the same
-- transaction as the change; UPDATE, DELETE and TRUNCATE are refused. Each organisation's rows
-- form a chain: seq counts them from 1, and hash = sha256(prev_hash || the row's canonical text)
-- (slotoptim_private.audit_hash). No foreign key to organisation: the trail outlives the practice
-- (six years' retention). Values hold ids, statuses, times and settings only: never names,
-- phone numbers, addresses, message bodies or clinical details.
create table if not exists slotoptim_private.audit_event (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  seq bigint not null,
  at timestamptz not null,
  actor_kind text not null
    constraint audit_event_actor_kind_known check (actor_kind in ('api_key', 'user', 'system')),
  actor_id text
    constraint audit_event_actor_id_length check (length(actor_id) <= 200),
  actor_address text
    constraint audit_event_actor_address_length check (length(actor_address) <= 200),
  entity text not null,
  entity_id bigint,
  action text not null
    constraint audit_event_action_known check (action in ('insert', 'update', 'delete')),
  old_values jsonb,
  new_values jsonb,
  prev_hash bytea,
  hash bytea not null
    constraint audit_event_hash_length check (length(hash) = 32),
  constraint audit_event_seq_positive check (seq >= 1),
  constraint audit_event_chain_start check ((seq = 1) = (prev_hash is null)),
  unique (org_id, seq)
);

create index if not exists audit_event_entity_idx on slotoptim_private.audit_event (org_id, entity, entity_id);

-- The head of each organisation's chain: the last seq and hash. Writers lock this row, so
-- concurrent transactions append one after the other and the chain never forks; verification
-- compares the last row with it, so a deleted tail is noticed too.
create table if not exists slotoptim_private.audit_chain (
  org_id bigint primary key,
  seq bigint not null default 0,
  hash bytea
);

-- Organisations that existed before the audit trail start an empty chain.
insert into slotoptim_private.audit_chain (org_id)
select o.id from slotoptim_private.organisation as o
on conflict (org_id) do nothing;
