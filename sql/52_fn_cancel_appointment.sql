-- Cancels an appointment at time p_at and returns the gaps this opened (none when the time has
-- passed or the appointment was not blocking). The trigger on appointment records the gaps.
create or replace function slotoptim.cancel_appointment(appointment_id bigint, at timestamptz default now())
returns setof bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(cancel_appointment.at);
  v_status text;
begin
  select a.status
    into v_status
    from slotoptim_private.appointment as a
   where a.id = cancel_appointment.appointment_id
     and (slotoptim_private.current_org() is null or a.org_id = slotoptim_private.current_org())
     for update;
  if v_status is null then
    raise exception using
      errcode = 'no_data_found',
      message = format('unknown appointment %s', cancel_appointment.appointment_id);
  end if;
  if v_status not in ('booked', 'confirmed') then
    raise exception using
      errcode = 'check_violation',
      message = format('appointment %s is %s and cannot be cancelled', cancel_appointment.appointment_id, v_status);
  end if;

  update slotoptim_private.appointment as a
     set status = 'cancelled', cancelled_at = cancel_appointment.at
   where a.id = cancel_appointment.appointment_id;

  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return query
    select g.id
      from slotoptim_private.gap as g
     where g.source_appointment_id = cancel_appointment.appointment_id
       and g.status = 'open'
     order by lower(g.during);
end;
$$;

comment on function slotoptim.cancel_appointment(bigint, timestamptz) is
  'Cancels a booked or confirmed appointment as of "at"; returns the ids of the open gaps it created.';
