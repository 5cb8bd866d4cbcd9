-- Bookings SlotOptim makes go back to the organisation's EHR through the external-write outbox: a
-- new, moved or re-statused appointment of source staff, waitlist or portal queues a
-- 'fhir_appointment' write for each of the organisation's FHIR connections. The sender reads the
-- appointment when it sends (several changes in a row make one write) and uses a conditional
-- create on our identifier, so a resend never books twice. Appointments that came from the EHR
-- (source 'external') or the practice file ('import') are never written back.
create or replace function slotoptim_private.appointment_queue_fhir_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_connection_id bigint;
begin
  if new.source in ('external', 'import') then
    return null;
  end if;
  if tg_op = 'UPDATE'
     and (new.period, new.provider_id, new.status, new.customer_id)
         is not distinct from (old.period, old.provider_id, old.status, old.customer_id) then
    return null;
  end if;
  for v_connection_id in
    select c.id
      from slotoptim_private.external_connection as c
     where c.org_id = new.org_id
       and c.purpose = 'fhir'
       and c.provider_id is null
       and c.state <> 'disabled'
  loop
    perform slotoptim.queue_external_write(v_connection_id, 'fhir_appointment', 'appointment:' || new.id,
                                           'slotoptim-appointment-' || new.id, '{}', slotoptim_private.clock());
  end loop;
  return null;
end;
$$;

create or replace trigger appointment_queue_fhir_write
  after insert or update on slotoptim_private.appointment
  -- Checked before the function is called: an initial calendar sync inserts thousands of
  -- external rows, and a function call each is most of what this trigger would cost them.
  for each row when (new.source not in ('external', 'import'))
  execute function slotoptim_private.appointment_queue_fhir_write();
