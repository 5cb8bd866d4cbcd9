-- External items into blocking time. A busy external event is an appointment of source 'external'
-- (no service, no customer, no buffer), so the exclusion constraint sees it and no claim can be
-- booked over it; a cancelled, deleted, freed or declined one is cancelled exactly as a staff
-- cancellation is, so the appointment trigger opens the gap and the fill engine is woken.

-- Applies one page of normalised items of a connection. Each item is
--   {"id": text, "etag": text, "start": timestamptz, "end": timestamptz, "busy": boolean, "ours": bigint,
--    "group": text}
-- "busy" false (or no start/end) means the time is free; "ours" is set when the item carries our
-- own appointment id (our echo); "group" (an id prefix) says the page lists every item of that
-- group, so the group's items it omits are released. Returns counts: imported, released, echoes, conflicts.
create or replace function slotoptim.apply_external_items(connection_id bigint, items jsonb, generation integer,
                                                          at timestamptz default now())
returns table (imported integer, released integer, echoes integer, conflicts integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(apply_external_items.at);
  v_connection slotoptim_private.external_connection;
  v_raw jsonb;
  v_external_id text;
  v_etag text;
  v_start timestamptz;
  v_end timestamptz;
  v_period tstzrange;
  v_ours bigint;
  v_item slotoptim_private.external_item;
  v_status text;
  v_appointment_id bigint;
  v_groups text[];
begin
  imported := 0; released := 0; echoes := 0; conflicts := 0;
  select c.* into v_connection
    from slotoptim_private.external_connection as c where c.id = apply_external_items.connection_id;
  if v_connection.id is null or v_connection.provider_id is null then
    raise exception using errcode = 'no_data_found',
      message = format('no provider connection %s', apply_external_items.connection_id);
  end if;
  if jsonb_typeof(apply_external_items.items) <> 'array' then
    raise exception using errcode = 'invalid_parameter_value', message = 'items must be a JSON array';
  end if;

  for v_raw in select value from jsonb_array_elements(apply_external_items.items) loop
    v_external_id := v_raw ->> 'id';
    if v_external_id is null or v_external_id = '' then
      raise exception using errcode = 'invalid_parameter_value', message = 'every item needs an "id"';
    end if;
    v_etag := v_raw ->> 'etag';
    v_start := (v_raw ->> 'start')::timestamptz;
    v_end := (v_raw ->> 'end')::timestamptz;
    v_ours := (v_raw ->> 'ours')::bigint;
    v_period := case
      when coalesce((v_raw ->> 'busy')::boolean, false) and v_start is not null and v_end is not null
           and v_start < v_end then pg_catalog.tstzrange(v_start, v_end, '[)')
    end;

    select i.* into v_item
      from slotoptim_private.external_item as i
     where i.connection_id = v_connection.id and i.external_id = v_external_id
       for update;

    -- Our own booking coming back: remember its etag, never import it as busy time.
    if v_ours is not null or v_item.origin = 'slotoptim' then
      if v_item.id is null then
        insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin, appointment_id,
                                                     period, state, seen_generation, updated_at)
        select v_connection.org_id, v_connection.id, v_external_id, v_etag, 'slotoptim', a.id, v_period,
               case when v_period is null then 'free' else 'busy' end, apply_external_items.generation,
               apply_external_items.at
          from (select v_ours as id) as x
          left join slotoptim_private.appointment as a on a.id = x.id and a.org_id = v_connection.org_id;
      else
        update slotoptim_private.external_item as i
           set etag = v_etag, seen_generation = apply_external_items.generation, updated_at = apply_external_items.at
         where i.id = v_item.id;
      end if;
      echoes := echoes + 1;
      continue;
    end if;

    v_status := null;
    if v_item.appointment_id is not null then
      select a.status into v_status from slotoptim_private.appointment as a where a.id = v_item.appointment_id;
    end if;

    if v_period is null then
      -- Free: cancelled, deleted, transparent, declined. A tombstone may carry only the id; the
      -- mirror remembers which time it held.
      if v_status in ('booked', 'confirmed') then
        perform slotoptim.cancel_appointment(v_item.appointment_id, apply_external_items.at);
        released := released + 1;
      end if;
      if v_item.id is not null then
        update slotoptim_private.external_item as i
           set etag = coalesce(v_etag, i.etag), state = 'free', seen_generation = apply_external_items.generation,
               updated_at = apply_external_items.at
         where i.id = v_item.id;
      end if;
      continue;
    end if;

    -- Busy.
    begin
      if v_status in ('booked', 'confirmed') then
        update slotoptim_private.appointment as a set period = v_period
         where a.id = v_item.appointment_id and a.period is distinct from v_period;
        v_appointment_id := v_item.appointment_id;
      else
        insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period,
                                                   buffer_after_minutes, status, source, booked_at)
        values (v_connection.org_id, v_connection.provider_id, null, null, v_period, 0, 'booked', 'external',
                apply_external_items.at)
        returning id into v_appointment_id;
        imported := imported + 1;
      end if;
      insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin, appointment_id,
                                                   period, state, seen_generation, updated_at)
      values (v_connection.org_id, v_connection.id, v_external_id, v_etag, 'external', v_appointment_id, v_period,
              'busy', apply_external_items.generation, apply_external_items.at)
      on conflict on constraint external_item_connection_id_external_id_key do update
        set etag = excluded.etag, appointment_id = excluded.appointment_id, period = excluded.period,
            state = 'busy', seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
    exception
      when exclusion_violation then
        -- The external calendar has busy time over a SlotOptim booking (booked here before the
        -- event reached us). The booking stands; the conflict is recorded for staff to resolve.
        -- A moved event no longer holds its old time: that is released.
        if v_status in ('booked', 'confirmed') then
          perform slotoptim.cancel_appointment(v_item.appointment_id, apply_external_items.at);
          released := released + 1;
        end if;
        insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin,
                                                     appointment_id, period, state, seen_generation, updated_at)
        values (v_connection.org_id, v_connection.id, v_external_id, v_etag, 'external', null, v_period,
                'conflict', apply_external_items.generation, apply_external_items.at)
        on conflict on constraint external_item_connection_id_external_id_key do update
          set etag = excluded.etag, period = excluded.period, state = 'conflict',
              seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
        conflicts := conflicts + 1;
    end;
  end loop;

  -- Items of a group (the instances of one recurring CalDAV resource, "href#...") that a page
  -- lists again are complete: instances of those groups it no longer lists are gone.
  v_groups := array(select distinct e.value ->> 'group' from jsonb_array_elements(apply_external_items.items) as e
                     where e.value ->> 'group' is not null);
  for v_item in
    select i.*
      from slotoptim_private.external_item as i
     where cardinality(v_groups) > 0
       and i.connection_id = v_connection.id
       and i.origin = 'external'
       and i.state in ('busy', 'conflict')
       and exists (select 1 from unnest(v_groups) as g(prefix) where pg_catalog.starts_with(i.external_id, g.prefix))
       and not exists (select 1 from jsonb_array_elements(apply_external_items.items) as e
                        where e.value ->> 'id' = i.external_id)
       for update of i
  loop
    select a.status into v_status from slotoptim_private.appointment as a where a.id = v_item.appointment_id;
    if v_status in ('booked', 'confirmed') then
      perform slotoptim.cancel_appointment(v_item.appointment_id, apply_external_items.at);
      released := released + 1;
    end if;
    update slotoptim_private.external_item as i
       set state = 'free', seen_generation = apply_external_items.generation, updated_at = apply_external_items.at
     where i.id = v_item.id;
  end loop;

  update slotoptim_private.external_connection as c
     set items_imported = c.items_imported + imported, items_released = c.items_released + released,
         conflicts = c.conflicts + apply_external_items.conflicts
   where c.id = v_connection.id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.apply_external_items(bigint, jsonb, integer, timestamptz) is
  'Applies normalised external items: busy ones become blocking appointments (source external), freed ones are cancelled like any cancellation. Returns counts.';

-- Releases the busy items of a connection that the full sync of `generation` did not list.
create or replace function slotoptim_private.release_external_items(p_connection_id bigint, p_generation integer,
                                                                   p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_item record;
  v_released integer := 0;
begin
  for v_item in
    select i.id, i.appointment_id, a.status
      from slotoptim_private.external_item as i
      left join slotoptim_private.appointment as a on a.id = i.appointment_id
     where i.connection_id = p_connection_id
       and i.origin = 'external'
       and i.state in ('busy', 'conflict')
       and i.seen_generation < p_generation
       for update of i
  loop
    if v_item.status in ('booked', 'confirmed') then
      perform slotoptim.cancel_appointment(v_item.appointment_id, p_at);
      v_released := v_released + 1;
    end if;
    update slotoptim_private.external_item set state = 'free', updated_at = p_at where id = v_item.id;
  end loop;
  return v_released;
end;
$$;

-- Records that we wrote an appointment to an external system as `external_id`, so its echo is
-- recognised and later writes update (or delete) that item instead of creating another.
create or replace function slotoptim.external_item_written(connection_id bigint, external_id text, etag text,
                                                           appointment_id bigint, deleted boolean,
                                                           at timestamptz default now())
returns void
language sql
volatile
set search_path = ''
as $$
  insert into slotoptim_private.external_item (org_id, connection_id, external_id, etag, origin, appointment_id,
                                               period, state, updated_at)
  select c.org_id, c.id, external_item_written.external_id, external_item_written.etag, 'slotoptim', a.id, a.period,
         case when external_item_written.deleted then 'free' else 'busy' end, external_item_written.at
    from slotoptim_private.external_connection as c
    left join slotoptim_private.appointment as a
      on a.id = external_item_written.appointment_id and a.org_id = c.org_id
   where c.id = external_item_written.connection_id
  on conflict on constraint external_item_connection_id_external_id_key do update
    set etag = excluded.etag, origin = 'slotoptim', appointment_id = excluded.appointment_id,
        period = excluded.period, state = excluded.state, updated_at = excluded.updated_at;
$$;

comment on function slotoptim.external_item_written(bigint, text, text, bigint, boolean, timestamptz) is
  'Records an item we wrote to (or deleted from) an external system for one of our appointments.';
