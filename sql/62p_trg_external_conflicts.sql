-- Conflicts tried again when the booking in their way frees its time. An external event that
-- overlapped a SlotOptim booking could not become blocking time (the booking stands; the item is
-- a 'conflict' staff see). When that booking is cancelled, moved, reassigned or marked a no-show,
-- the external event holds the time again at once: a linked calendar's conflicts are reconciled
-- over the freed time in the same transaction (so the gap the cancellation opened is consumed
-- before anyone is offered it), and an EHR connection with conflicts there is asked for a pull
-- (its items are re-read from the EHR, slotoptim.apply_ehr_appointments).
create or replace function slotoptim_private.appointment_retry_external_conflicts()
returns trigger
language plpgsql
-- The caller may be the application role, which does not reconcile calendars itself.
security definer
set search_path = ''
as $$
declare
  v_at timestamptz := slotoptim_private.clock();
  v_freed tstzmultirange := pg_catalog.tstzmultirange(old.blocked);
  v_connection_id bigint;
begin
  if new.provider_id = old.provider_id and slotoptim_private.is_blocking(new.status) then
    v_freed := v_freed - pg_catalog.tstzmultirange(new.blocked);
  end if;
  if isempty(v_freed) then
    return null;
  end if;
  for v_connection_id in
    select c.id
      from slotoptim_private.external_connection as c
     where c.org_id = old.org_id and c.purpose = 'calendar' and c.provider_id = old.provider_id and c.state = 'ok'
       and exists (select 1 from slotoptim_private.external_item as i
                    where i.connection_id = c.id and i.state = 'conflict' and i.period && v_freed)
     order by c.id
  loop
    perform slotoptim_private.reconcile_external(v_connection_id, v_freed, v_at);
  end loop;
  for v_connection_id in
    select c.id
      from slotoptim_private.external_connection as c
     where c.org_id = old.org_id and c.purpose = 'fhir' and c.state = 'ok'
       and exists (select 1 from slotoptim_private.external_item as i
                    where i.connection_id = c.id and i.state = 'conflict' and i.period && v_freed)
     order by c.id
  loop
    perform slotoptim.external_sync_requested(v_connection_id, v_at);
  end loop;
  return null;
end;
$$;

-- Only our own bookings that held time and gave some of it up; external busy time changes
-- through the sync itself.
create or replace trigger appointment_retry_external_conflicts
  after update on slotoptim_private.appointment
  for each row
  when (old.source <> 'external' and old.status in ('booked', 'confirmed', 'arrived', 'completed')
        and (new.status not in ('booked', 'confirmed', 'arrived', 'completed')
             or new.blocked is distinct from old.blocked or new.provider_id <> old.provider_id))
  execute function slotoptim_private.appointment_retry_external_conflicts();
