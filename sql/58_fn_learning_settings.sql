-- Every organisation has learning settings (defaults) from the moment it exists, like its
-- organisation_settings; migration 0003 gave the organisations that existed before theirs.
create or replace function slotoptim_private.learning_defaults()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into slotoptim_private.learning_settings (org_id) values (new.id) on conflict (org_id) do nothing;
  return null;
end;
$$;

create or replace trigger learning_defaults
  after insert on slotoptim_private.organisation
  for each row execute function slotoptim_private.learning_defaults();
