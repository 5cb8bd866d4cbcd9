-- Every change of a queue entry wakes the screens: a NOTIFY on engine_channel('queue') carrying ids only
-- (organisation, location, provider, entry, status). The API's one listener fans it out to the
-- browsers over Server-Sent Events; the rows stay the truth (a missed wake-up is caught by the
-- pages' periodic refresh).
create or replace function slotoptim_private.queue_entry_notify()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('queue'), pg_catalog.json_build_object(
    'v', 1, 'org', new.org_id, 'location', new.location_id, 'provider', new.provider_id,
    'entry', new.id, 'status', new.status)::text);
  return null;
end;
$$;

create or replace trigger queue_entry_notify
  after insert or update on slotoptim_private.queue_entry
  for each row execute function slotoptim_private.queue_entry_notify();
