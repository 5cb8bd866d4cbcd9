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
