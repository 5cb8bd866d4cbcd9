-- Checksums of the repeatable sql/ files (functions, views, triggers, grants) as last applied.
-- The migration runner re-applies them only when a checksum changes, so a second run is a no-op.
create table if not exists slotoptim_private.schema_source (
  file_name text primary key,
  sha256 text not null,
  applied_at timestamptz not null default now()
);
