-- EHR appointments into our calendar. The Python sync reads FHIR Appointments, resolves their
-- Practitioner, service and Patient to our ids (slotoptim_private.ehr_link) and hands each page here.
-- An item is
--   {"id": "Appointment/<id>", "version": text, "updated": timestamptz (meta.lastUpdated),
--    "status": booked|arrived|completed|no_show|cancelled|free, "start", "end",
--    "provider_id", "service_id", "customer_id", "ours": our appointment id when it carries our identifier}
-- ("free": proposed, pending, waitlist, entered-in-error or deleted: holds no time).
-- Applying is idempotent and ignores an item older than the one already applied (duplicate and
-- out-of-order deliveries). A booked item becomes (or updates) an appointment of source
-- 'external'; a cancelled one is cancelled as any cancellation is, so its time opens as a gap;
-- a no-show is marked. Our own bookings written back (origin 'slotoptim') follow the EHR's
-- later changes to them. Busy time over a SlotOptim booking is recorded as a conflict.
create or replace function slotoptim.apply_ehr_appointments(connection_id bigint, items jsonb, generation integer,
                                                            at timestamptz default now())
returns table (imported integer, updated integer, released integer, conflicts integer, skipped integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(apply_ehr_appointments.at);
  v_connection slotoptim_private.external_connection;
  v_raw jsonb;
  v_external_id text;
  v_updated timestamptz;
  v_etag text;
  v_status text;
  v_period tstzrange;
  v_item slotoptim_private.external_item;
  v_appointment slotoptim_private.appointment;
  v_appointment_id bigint;
  v_origin text;
begin
  imported := 0; updated := 0; released := 0; conflicts := 0; skipped := 0;
  select c.* into v_connection
    from slotoptim_private.external_connection as c where c.id = apply_ehr_appointments.connection_id;
  if v_connection.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown external connection %s', apply_ehr_appointments.connection_id);
  end if;
  if jsonb_typeof(apply_ehr_appointments.items) <> 'array' then
    raise exception using errcode = 'invalid_parameter_value', message = 'items must be a JSON array';
  end if;

  for v_raw in select value from jsonb_array_elements(apply_ehr_appointments.items) loop
    v_external_id := v_raw ->> 'id';
    v_updated := (v_raw ->> 'updated')::timestamptz;
    v_etag := (v_raw ->> 'updated') || '|' || coalesce(v_raw ->> 'version', '');
    v_status := v_raw ->> 'status';
    if v_external_id is null or v_updated is null
       or v_status not in ('booked', 'arrived', 'completed', 'no_show', 'cancelled', 'free') then
      raise exception using errcode = 'invalid_parameter_value',
        message = format('an item needs id, updated and a known status: %s', v_raw);
    end if;
    v_period := case when v_raw ->> 'start' is not null and v_raw ->> 'end' is not null
                          and (v_raw ->> 'start')::timestamptz < (v_raw ->> 'end')::timestamptz
                     then pg_catalog.tstzrange((v_raw ->> 'start')::timestamptz, (v_raw ->> 'end')::timestamptz, '[)')
                end;

    select i.* into v_item
      from slotoptim_private.external_item as i
     where i.connection_id = v_connection.id and i.external_id = v_external_id
       for update;
    v_appointment := null;
    v_origin := coalesce(v_item.origin, case when v_raw ->> 'ours' is not null then 'slotoptim' else 'external' end);

    -- Already applied this version or a later one: a duplicate or late delivery. A conflict is
    -- tried again: the booking in its way may have been cancelled since.
    if v_item.id is not null and v_item.etag like '%|%' and v_item.state <> 'conflict'
       and split_part(v_item.etag, '|', 1)::timestamptz >= v_updated then
      update slotoptim_private.external_item as i
         set seen_generation = greatest(i.seen_generation, apply_ehr_appointments.generation)
       where i.id = v_item.id;
      skipped := skipped + 1;
      continue;
    end if;

    v_appointment_id := coalesce(v_item.appointment_id, (v_raw ->> 'ours')::bigint);
    if v_appointment_id is not null then
      select a.* into v_appointment from slotoptim_private.appointment as a
       where a.id = v_appointment_id and a.org_id = v_connection.org_id
         for update;
    end if;

    begin
      if v_status in ('booked', 'arrived', 'completed') and v_period is not null then
        if v_appointment.id is null then
          if v_origin = 'slotoptim' then
            -- Our booking, gone on our side: the EHR does not bring it back.
            skipped := skipped + 1;
          else
            insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period,
                                                       buffer_after_minutes, status, source, booked_at)
            values (v_connection.org_id, (v_raw ->> 'provider_id')::bigint, (v_raw ->> 'service_id')::bigint,
                    (v_raw ->> 'customer_id')::bigint, v_period,
                    -- The EHR's own time, no buffer of ours: back-to-back visits there never conflict here.
                    0, v_status, 'external',
                    apply_ehr_appointments.at)
            returning id into v_appointment_id;
            imported := imported + 1;
          end if;
        elsif (v_appointment.period, v_appointment.status, v_appointment.provider_id)
              is distinct from (v_period, v_status, (v_raw ->> 'provider_id')::bigint)
              and not (v_appointment.status = 'confirmed' and v_status = 'booked'
                       and v_appointment.period = v_period) then
          update slotoptim_private.appointment as a
             set period = v_period,
                 status = case when a.status = 'confirmed' and v_status = 'booked' then a.status else v_status end,
                 provider_id = coalesce((v_raw ->> 'provider_id')::bigint, a.provider_id),
                 service_id = coalesce((v_raw ->> 'service_id')::bigint, a.service_id),
                 customer_id = coalesce((v_raw ->> 'customer_id')::bigint, a.customer_id),
                 cancelled_at = null
           where a.id = v_appointment.id;
          updated := updated + 1;
        end if;
      elsif v_appointment.id is not null then
        if v_status = 'no_show' and v_appointment.status in ('booked', 'confirmed', 'arrived') then
          update slotoptim_private.appointment as a set status = 'no_show' where a.id = v_appointment.id;
          updated := updated + 1;
        elsif v_status in ('cancelled', 'free') and v_appointment.status in ('booked', 'confirmed') then
          perform slotoptim.cancel_appointment(v_appointment.id, apply_ehr_appointments.at);
          released := released + 1;
        elsif v_status in ('cancelled', 'free') and v_appointment.status in ('arrived', 'completed') then
          update slotoptim_private.appointment as a
             set status = 'cancelled', cancelled_at = apply_ehr_appointments.at
           where a.id = v_appointment.id;
          released := released + 1;
        end if;
      end if;

      insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin, appointment_id,
                                                   period, state, seen_generation, updated_at)
      values (v_connection.org_id, v_connection.id, v_external_id, v_etag, v_origin, v_appointment_id,
              coalesce(v_period, v_item.period),
              case when v_status in ('booked', 'arrived', 'completed') and v_period is not null then 'busy'
                   else 'free' end,
              apply_ehr_appointments.generation, apply_ehr_appointments.at)
      on conflict on constraint external_item_connection_id_external_id_key do update
        set etag = excluded.etag, appointment_id = excluded.appointment_id, period = excluded.period,
            state = excluded.state, seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
    exception
      when exclusion_violation then
        -- The EHR holds time that a SlotOptim booking already has: the booking stands and staff
        -- see the conflict. If the item had time of its own before, that time is released.
        if v_appointment.id is not null and v_appointment.status in ('booked', 'confirmed') then
          perform slotoptim.cancel_appointment(v_appointment.id, apply_ehr_appointments.at);
          released := released + 1;
        end if;
        insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin,
                                                     appointment_id, period, state, seen_generation, updated_at)
        values (v_connection.org_id, v_connection.id, v_external_id, v_etag, v_origin, v_appointment.id, v_period,
                'conflict', apply_ehr_appointments.generation, apply_ehr_appointments.at)
        on conflict on constraint external_item_connection_id_external_id_key do update
          set etag = excluded.etag, period = excluded.period, state = 'conflict',
              seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
        conflicts := conflicts + 1;
    end;
  end loop;

  update slotoptim_private.external_connection as c
     set items_imported = c.items_imported + imported, items_released = c.items_released + released,
         conflicts = c.conflicts + apply_ehr_appointments.conflicts
   where c.id = v_connection.id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.apply_ehr_appointments(bigint, jsonb, integer, timestamptz) is
  'Applies a page of EHR (FHIR) appointments: booked ones block time (source external), cancelled ones free it and open gaps, no-shows are marked; idempotent, later versions win.';
