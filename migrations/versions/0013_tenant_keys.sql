-- Frozen copy of sql/39h_tables_tenant_keys.sql as of revision 0014. Never edit: add a migration.
-- Every tenant table with an id has the key (org_id, id), and no foreign key between tenant
-- tables leaves out org_id, so the tables can be distributed by organisation (Citus) without
-- changing a key (docs/scaling.md; tests/sql/tenant_keys keeps it so for every new table).

alter table slotoptim_private.working_hours add constraint working_hours_org_id_id_key unique (org_id, id);
alter table slotoptim_private.closure add constraint closure_org_id_id_key unique (org_id, id);
alter table slotoptim_private.audit_event add constraint audit_event_org_id_id_key unique (org_id, id);
alter table slotoptim_private.buffer_rule add constraint buffer_rule_org_id_id_key unique (org_id, id);
alter table slotoptim_private.model_version add constraint model_version_org_id_id_key unique (org_id, id);

-- A gap is merged into a gap of its own organisation.
alter table slotoptim_private.gap drop constraint gap_merged_into_fkey;
alter table slotoptim_private.gap
  add constraint gap_org_id_merged_into_fkey foreign key (org_id, merged_into)
  references slotoptim_private.gap (org_id, id);
