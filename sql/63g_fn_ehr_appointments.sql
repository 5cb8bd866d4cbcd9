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

-- One item. Returns what it did: imported, updated, released, conflict, conflict_released (the
-- item's own earlier time was released), skipped or unchanged.
create or replace function slotoptim_private.apply_ehr_item(p_connection slotoptim_private.external_connection,
                                                            p_raw jsonb, p_generation integer, p_at timestamptz)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_external_id text := p_raw ->> 'id';
  v_updated timestamptz := (p_raw ->> 'updated')::timestamptz;
  v_etag text := (p_raw ->> 'updated') || '|' || coalesce(p_raw ->> 'version', '');
  v_status text := p_raw ->> 'status';
  v_period tstzrange;
  v_item slotoptim_private.external_item;
  v_appointment slotoptim_private.appointment;
  v_appointment_id bigint;
  v_origin text;
  v_outcome text := 'unchanged';
begin
  if v_external_id is null or v_updated is null
     or v_status not in ('booked', 'arrived', 'completed', 'no_show', 'cancelled', 'free') then
    raise exception using errcode = 'invalid_parameter_value',
      message = format('an item needs id, updated and a known status: %s', p_raw);
  end if;
  v_period := case when p_raw ->> 'start' is not null and p_raw ->> 'end' is not null
                        and (p_raw ->> 'start')::timestamptz < (p_raw ->> 'end')::timestamptz
                   then pg_catalog.tstzrange((p_raw ->> 'start')::timestamptz, (p_raw ->> 'end')::timestamptz, '[)')
              end;

  select i.* into v_item
    from slotoptim_private.external_item as i
   where i.connection_id = p_connection.id and i.external_id = v_external_id
     for update;
  v_origin := coalesce(v_item.origin, case when p_raw ->> 'ours' is not null then 'slotoptim' else 'external' end);

  -- Already applied this version or a later one: a duplicate or late delivery. A conflict is
  -- tried again: the booking in its way may have been cancelled since.
  if v_item.id is not null and v_item.etag like '%|%' and v_item.state <> 'conflict'
     and split_part(v_item.etag, '|', 1)::timestamptz >= v_updated then
    update slotoptim_private.external_item as i
       set seen_generation = greatest(i.seen_generation, p_generation)
     where i.id = v_item.id;
    return 'skipped';
  end if;

  v_appointment_id := coalesce(v_item.appointment_id, (p_raw ->> 'ours')::bigint);
  if v_appointment_id is not null then
    select a.* into v_appointment from slotoptim_private.appointment as a
     where a.id = v_appointment_id and a.org_id = p_connection.org_id
       for update;
  end if;

  begin
    if v_status in ('booked', 'arrived', 'completed') and v_period is not null then
      if v_appointment.id is null then
        if v_origin = 'slotoptim' then
          -- Our booking, gone on our side: the EHR does not bring it back.
          v_outcome := 'skipped';
        else
          insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period,
                                                     buffer_after_minutes, status, source, booked_at)
          values (p_connection.org_id, (p_raw ->> 'provider_id')::bigint, (p_raw ->> 'service_id')::bigint,
                  (p_raw ->> 'customer_id')::bigint, v_period,
                  -- The EHR's own time, no buffer of ours: back-to-back visits there never conflict here.
                  0, v_status, 'external', p_at)
          returning id into v_appointment_id;
          v_outcome := 'imported';
        end if;
      elsif (v_appointment.period, v_appointment.status, v_appointment.provider_id)
            is distinct from (v_period, v_status, (p_raw ->> 'provider_id')::bigint)
            and not (v_appointment.status = 'confirmed' and v_status = 'booked'
                     and v_appointment.period = v_period) then
        update slotoptim_private.appointment as a
           set period = v_period,
               status = case when a.status = 'confirmed' and v_status = 'booked' then a.status else v_status end,
               provider_id = coalesce((p_raw ->> 'provider_id')::bigint, a.provider_id),
               service_id = coalesce((p_raw ->> 'service_id')::bigint, a.service_id),
               customer_id = coalesce((p_raw ->> 'customer_id')::bigint, a.customer_id),
               cancelled_at = null
         where a.id = v_appointment.id;
        v_outcome := 'updated';
      end if;
    elsif v_appointment.id is not null then
      if v_status = 'no_show' and v_appointment.status in ('booked', 'confirmed', 'arrived') then
        update slotoptim_private.appointment as a set status = 'no_show' where a.id = v_appointment.id;
        v_outcome := 'updated';
      elsif v_status in ('cancelled', 'free') and v_appointment.status in ('booked', 'confirmed') then
        perform slotoptim.cancel_appointment(v_appointment.id, p_at);
        v_outcome := 'released';
      elsif v_status in ('cancelled', 'free') and v_appointment.status in ('arrived', 'completed') then
        update slotoptim_private.appointment as a
           set status = 'cancelled', cancelled_at = p_at
         where a.id = v_appointment.id;
        v_outcome := 'released';
      end if;
    end if;

    insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin, appointment_id,
                                                 period, state, seen_generation, updated_at)
    values (p_connection.org_id, p_connection.id, v_external_id, v_etag, v_origin, v_appointment_id,
            coalesce(v_period, v_item.period),
            case when v_status in ('booked', 'arrived', 'completed') and v_period is not null then 'busy'
                 else 'free' end,
            p_generation, p_at)
    on conflict on constraint external_item_connection_id_external_id_key do update
      set etag = excluded.etag, appointment_id = excluded.appointment_id, period = excluded.period,
          state = excluded.state, seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
  exception
    when exclusion_violation then
      -- The EHR holds time that another appointment here still has. The item's own earlier time
      -- is released (the EHR no longer holds it), and the item waits as a conflict: the caller
      -- tries it again once the rest of the page (and of the pull) has moved out of the way; what
      -- stays a conflict is a SlotOptim booking in the way, which stands, and staff see it.
      v_outcome := 'conflict';
      if v_appointment.id is not null and v_appointment.status in ('booked', 'confirmed') then
        perform slotoptim.cancel_appointment(v_appointment.id, p_at);
        v_outcome := 'conflict_released';
      end if;
      insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin,
                                                   appointment_id, period, state, seen_generation, updated_at)
      values (p_connection.org_id, p_connection.id, v_external_id, v_etag, v_origin, v_appointment.id, v_period,
              'conflict', p_generation, p_at)
      on conflict on constraint external_item_connection_id_external_id_key do update
        set etag = excluded.etag, period = excluded.period, state = 'conflict',
            seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
  end;
  return v_outcome;
end;
$$;

-- A page, in an order that lets time move: items that free time first (cancelled, no-show,
-- deleted), then those that hold time; then the items left in conflict are tried again, as long
-- as a round places at least one of them. So two appointments that swapped times in the EHR (or
-- a cycle of them) settle within the page whatever order the EHR listed them in.
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
  v_pending jsonb[];
  v_conflicted jsonb[];
  v_raw jsonb;
  v_outcome text;
  v_round integer := 0;
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

  -- Frees before holds; within each, the EHR's order (the page is sorted by _lastUpdated).
  v_pending := array(
    select x.value
      from jsonb_array_elements(apply_ehr_appointments.items) with ordinality as x(value, n)
     order by (x.value ->> 'status') in ('booked', 'arrived', 'completed'), x.n);
  loop
    v_round := v_round + 1;
    v_conflicted := '{}';
    foreach v_raw in array v_pending loop
      v_outcome := slotoptim_private.apply_ehr_item(v_connection, v_raw, apply_ehr_appointments.generation,
                                                    apply_ehr_appointments.at);
      case v_outcome
        when 'imported' then imported := imported + 1;
        when 'updated' then updated := updated + 1;
        when 'released' then released := released + 1;
        when 'skipped' then skipped := skipped + 1;
        when 'conflict', 'conflict_released' then
          v_conflicted := v_conflicted || v_raw;
          if v_outcome = 'conflict_released' then
            released := released + 1;
          end if;
        else null;
      end case;
    end loop;
    -- Done, or a round that placed nothing: what is left stays a conflict.
    exit when cardinality(v_conflicted) = 0 or cardinality(v_conflicted) = cardinality(v_pending) and v_round > 1;
    v_pending := v_conflicted;
  end loop;
  conflicts := cardinality(v_conflicted);

  update slotoptim_private.external_connection as c
     set items_imported = c.items_imported + imported, items_released = c.items_released + released,
         conflicts = c.conflicts + apply_ehr_appointments.conflicts
   where c.id = v_connection.id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.apply_ehr_appointments(bigint, jsonb, integer, timestamptz) is
  'Applies a page of EHR (FHIR) appointments: booked ones block time (source external), cancelled ones free it and open gaps, no-shows are marked; frees first, conflicts retried within the page; idempotent, later versions win.';

-- A full pull releases the EHR appointments it no longer lists (a deleted FHIR resource leaves no
-- trace in a `_lastUpdated` search). Each item is its own appointment, so each is cancelled like
-- any cancellation and its time opens as a gap; our own bookings written back (origin
-- 'slotoptim') are left to the write-back, which knows whether they still exist there.
create or replace function slotoptim_private.release_ehr_items(p_connection_id bigint, p_generation integer,
                                                              p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_released integer := 0;
  v_appointment slotoptim_private.appointment;
  v_gone bigint[];
begin
  with gone as (
    update slotoptim_private.external_item as i
       set state = 'free', updated_at = p_at
     where i.connection_id = p_connection_id and i.origin = 'external' and i.state in ('busy', 'conflict')
       and i.seen_generation < p_generation
    returning i.appointment_id
  )
  select coalesce(array_agg(gone.appointment_id), '{}') into v_gone from gone where gone.appointment_id is not null;
  for v_appointment in
    select a.* from slotoptim_private.appointment as a
     where a.id = any (v_gone) and a.status in ('booked', 'confirmed', 'arrived', 'completed')
     order by a.id
       for update
  loop
    if v_appointment.status in ('booked', 'confirmed') then
      perform slotoptim.cancel_appointment(v_appointment.id, p_at);
    else
      update slotoptim_private.appointment as a
         set status = 'cancelled', cancelled_at = p_at
       where a.id = v_appointment.id;
    end if;
    v_released := v_released + 1;
  end loop;
  return v_released;
end;
$$;

comment on function slotoptim_private.release_ehr_items(bigint, integer, timestamptz) is
  'Releases the EHR appointments a full pull of `generation` no longer listed: cancelled, their time opened as gaps.';
