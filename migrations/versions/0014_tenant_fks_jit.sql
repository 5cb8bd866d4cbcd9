-- Frozen copy of sql/39i_tables_tenant_fks.sql and sql/39i_settings_jit.sql as of revision 0014. Never edit: add a migration.
-- JIT compilation off for this database. The planner's costs for the set-returning functions
-- (1,000 rows assumed per call, nested) pass the JIT thresholds although the queries touch a few
-- dozen rows: on PostgreSQL 15 with LLVM, slotoptim.candidate_exclusions spent 50 s compiling
-- (943 functions) to run in milliseconds. SlotOptim's queries are short; JIT never pays.
-- (The RDS parameter group sets jit = 0 as well, infra/cdk/stacks/database.py.) Sessions may
-- still turn it on. Only the database's owner may set this; anyone else is told what to do.
do $$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database as d where d.datname = pg_catalog.current_database()), 'MEMBER')
  then
    execute format('alter database %I set jit = off', pg_catalog.current_database());
  else
    raise notice 'jit is left as the server sets it: the database owner should run ALTER DATABASE % SET jit = off',
      pg_catalog.current_database();
  end if;
end
$$;

-- The last two foreign keys between tenant tables that left out org_id become composite, so no
-- key has to change before the tables are distributed by organisation (docs/scaling.md;
-- tests/sql/tenant_keys/distributable_by_org.test.sql keeps it so).

-- A gap split from another belongs to the same organisation.
alter table slotoptim_private.gap drop constraint gap_split_from_fkey;
alter table slotoptim_private.gap
  add constraint gap_org_id_split_from_fkey foreign key (org_id, split_from)
  references slotoptim_private.gap (org_id, id);

-- An EHR busy-slot link points at a closure of its own organisation; deleting the closure clears
-- only closure_id (org_id is not null and stays).
alter table slotoptim_private.ehr_link drop constraint ehr_link_closure_id_fkey;
alter table slotoptim_private.ehr_link
  add constraint ehr_link_org_id_closure_id_fkey foreign key (org_id, closure_id)
  references slotoptim_private.closure (org_id, id) on delete set null (closure_id);
