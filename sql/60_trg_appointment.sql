-- Appointment triggers: buffers and blocked time on write; gaps when time is freed or consumed.

create or replace function slotoptim_private.appointment_before_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.source = 'external' then
    -- External busy time has no service and keeps no buffer: it is exactly the calendar's event.
    new.buffer_after_minutes := coalesce(new.buffer_after_minutes, 0);
  elsif tg_op = 'INSERT' then
    if new.buffer_after_minutes is null then
      new.buffer_after_minutes := slotoptim_private.buffer_after(
        new.service_id, new.provider_id, new.customer_id, lower(new.period));
    end if;
  elsif (new.period, new.service_id, new.provider_id, new.customer_id)
        is distinct from (old.period, old.service_id, old.provider_id, old.customer_id)
    and new.buffer_after_minutes is not distinct from old.buffer_after_minutes then
    -- Rescheduled or reassigned without an explicit buffer: size it again.
    new.buffer_after_minutes := slotoptim_private.buffer_after(
      new.service_id, new.provider_id, new.customer_id, lower(new.period));
  end if;
  if new.buffer_after_minutes is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = format('unknown service %s', new.service_id);
  end if;
  new.blocked := pg_catalog.tstzrange(
    lower(new.period),
    upper(new.period) + pg_catalog.make_interval(mins => new.buffer_after_minutes),
    '[)');
  return new;
end;
$$;

create or replace trigger appointment_before_write
  before insert or update on slotoptim_private.appointment
  for each row execute function slotoptim_private.appointment_before_write();

create or replace function slotoptim_private.appointment_after_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := slotoptim_private.clock();
  v_old_blocks tstzmultirange := '{}';
  v_new_blocks tstzmultirange := '{}';
begin
  -- A delete cascading from a provider or organisation being removed frees nothing worth filling.
  if tg_op = 'DELETE' and pg_catalog.pg_trigger_depth() > 1 then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') and slotoptim_private.is_blocking(old.status) then
    v_old_blocks := pg_catalog.tstzmultirange(old.blocked);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and slotoptim_private.is_blocking(new.status) then
    v_new_blocks := pg_catalog.tstzmultirange(new.blocked);
  end if;

  if tg_op = 'UPDATE' and old.provider_id = new.provider_id then
    if not isempty(v_old_blocks - v_new_blocks) then
      perform slotoptim_private.open_gaps(old.provider_id, v_old_blocks - v_new_blocks, old.id, v_at);
    end if;
  elsif not isempty(v_old_blocks) then
    -- A deleted appointment cannot be the gap's source (the row is gone); a moved one can.
    perform slotoptim_private.open_gaps(old.provider_id, v_old_blocks,
                                        case when tg_op = 'DELETE' then null else old.id end, v_at);
  end if;

  if not isempty(v_new_blocks) then
    perform slotoptim_private.consume_gaps(new.id, v_at);
  end if;
  return null;
end;
$$;

create or replace trigger appointment_after_write
  after insert or update or delete on slotoptim_private.appointment
  for each row execute function slotoptim_private.appointment_after_write();
