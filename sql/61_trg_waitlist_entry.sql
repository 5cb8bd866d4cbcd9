-- Waitlist entries keep service and provider ids in arrays (GIN-indexable for matching); this
-- trigger gives them what a foreign key would: every id must belong to the entry's organisation.
create or replace function slotoptim_private.waitlist_entry_check_refs()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_missing bigint;
begin
  select x into v_missing
    from unnest(new.service_ids) as x
   where not exists (select 1 from slotoptim_private.service as s where s.id = x and s.org_id = new.org_id)
   limit 1;
  if v_missing is not null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = format('waitlist entry refers to service %s, which is not a service of this organisation', v_missing);
  end if;

  select x into v_missing
    from unnest(coalesce(new.provider_ids, '{}') || new.excluded_provider_ids) as x
   where not exists (select 1 from slotoptim_private.provider as p where p.id = x and p.org_id = new.org_id)
   limit 1;
  if v_missing is not null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = format('waitlist entry refers to provider %s, which is not a provider of this organisation', v_missing);
  end if;
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

create or replace trigger waitlist_entry_check_refs
  before insert or update on slotoptim_private.waitlist_entry
  for each row execute function slotoptim_private.waitlist_entry_check_refs();
