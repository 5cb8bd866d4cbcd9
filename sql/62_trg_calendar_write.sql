-- Bookings SlotOptim makes go back to the provider's linked calendar through the external-write
-- outbox: a new, moved, reassigned or cancelled appointment queues a 'calendar_event' write for
-- the calendar of its provider (and of its previous provider when reassigned). The sender reads
-- the appointment's state when it sends, so several changes in a row make one write.
-- Imported appointments (the practice file) and external busy time are never written back, and
-- nothing is written to a read-only ics feed.

create or replace function slotoptim_private.appointment_queue_calendar_write()
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
     and (new.period, new.provider_id, new.status) is not distinct from (old.period, old.provider_id, old.status) then
    return null;
  end if;
  for v_connection_id in
    select c.id
      from slotoptim_private.external_connection as c
     where c.org_id = new.org_id
       and c.purpose = 'calendar'
       and c.state <> 'disabled'
       and c.kind <> 'ics'  -- a feed is read-only
       and (c.provider_id = new.provider_id or (tg_op = 'UPDATE' and c.provider_id = old.provider_id))
  loop
    perform slotoptim.queue_external_write(v_connection_id, 'calendar_event', 'appointment:' || new.id,
                                           'slotoptim-appointment-' || new.id, '{}', slotoptim_private.clock());
  end loop;
  return null;
end;
$$;

create or replace trigger appointment_queue_calendar_write
  after insert or update on slotoptim_private.appointment
  -- Checked before the function is called: an initial calendar sync inserts thousands of
  -- external rows, and a function call each is most of what this trigger would cost them.
  for each row when (new.source not in ('external', 'import'))
  execute function slotoptim_private.appointment_queue_calendar_write();
