-- External items into blocking time. A busy external event is an appointment of source 'external'
-- (no service, no customer, no buffer), so the exclusion constraint sees it and no claim can be
-- booked over it; a cancelled, deleted, freed or declined one is cancelled exactly as a staff
-- cancellation is, so the appointment trigger opens the gap and the fill engine is woken.

-- The external busy time a connection holds is the union of its busy items: overlapping or
-- touching events (a double-booked calendar) make one blocking appointment, and an event removed
-- from under another frees only what nothing else covers. SlotOptim bookings already in that time
-- keep it (the external part over them is a 'conflict' for staff). Reconciling only looks at the
-- time that changed (p_dirty): appointments whose time is exactly still wanted stay, one that
-- overlaps a single wanted range and nothing else is moved or resized in place (its trigger opens
-- exactly the freed part as a gap), the rest are cancelled (gaps open like any cancellation) and
-- the new ranges inserted. Returns (imported, released, conflicts).
create or replace function slotoptim_private.reconcile_external(p_connection_id bigint, p_dirty tstzmultirange,
                                                               p_at timestamptz,
                                                               out imported integer, out released integer,
                                                               out conflicts integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_connection slotoptim_private.external_connection;
  v_area tstzmultirange;
  v_want tstzmultirange;
  v_taken tstzmultirange;
  v_new tstzmultirange;
  v_live_gaps tstzmultirange;
  v_filling bigint[];
begin
  imported := 0; released := 0; conflicts := 0;
  if p_dirty is null or isempty(p_dirty) then
    return;
  end if;
  select c.* into v_connection from slotoptim_private.external_connection as c where c.id = p_connection_id;

  -- The whole busy stretches that touch the changed time (a stretch can reach beyond it).
  select coalesce(range_agg(i.period), '{}') into v_want
    from slotoptim_private.external_item as i
   where i.connection_id = p_connection_id and i.origin = 'external' and i.state in ('busy', 'conflict')
     and i.period && p_dirty;
  select coalesce(range_agg(i.period), '{}') into v_want
    from slotoptim_private.external_item as i
   where i.connection_id = p_connection_id and i.origin = 'external' and i.state in ('busy', 'conflict')
     and i.period && v_want;
  v_area := p_dirty + v_want;

  create temporary table if not exists pg_temp.external_have (id bigint primary key, period tstzrange)
    on commit drop;
  truncate pg_temp.external_have;
  insert into pg_temp.external_have
  select distinct a.id, a.period
    from slotoptim_private.external_item as i
    join slotoptim_private.appointment as a on a.id = i.appointment_id
   where i.connection_id = p_connection_id
     and a.source = 'external' and a.status in ('booked', 'confirmed')
     and a.period && v_area;

  -- Time SlotOptim bookings (and other blocking appointments) already hold, buffers included.
  select coalesce(range_agg(a.blocked), '{}') into v_taken
    from slotoptim_private.appointment as a
   where a.provider_id = v_connection.provider_id
     and a.status in ('booked', 'confirmed', 'arrived', 'completed')
     and a.blocked && v_want
     and a.id not in (select h.id from pg_temp.external_have as h);

  create temporary table if not exists pg_temp.external_want (period tstzrange primary key) on commit drop;
  truncate pg_temp.external_want;
  insert into pg_temp.external_want select r from unnest(v_want - v_taken) as r;

  -- Items that lie (partly) under a SlotOptim booking are conflicts; the others are busy.
  update slotoptim_private.external_item as i
     set state = 'conflict'
   where i.connection_id = p_connection_id and i.origin = 'external' and i.state = 'busy'
     and i.period && v_want and i.period && v_taken;
  get diagnostics conflicts = row_count;
  update slotoptim_private.external_item as i
     set state = 'busy'
   where i.connection_id = p_connection_id and i.origin = 'external' and i.state = 'conflict'
     and i.period && v_want and not i.period && v_taken;

  -- Unchanged: an appointment already holding exactly a wanted range stays.
  with same as (
    select h.id, h.period from pg_temp.external_have as h join pg_temp.external_want as w on w.period = h.period
  ), kept as (
    delete from pg_temp.external_want as w using same where w.period = same.period
  )
  delete from pg_temp.external_have as h using same where h.id = same.id;

  -- Moved or resized in place: one old appointment and one new range that overlap only each other.
  -- The appointment trigger opens exactly the freed part as a gap.
  with pairs as (
    select h.id, h.period as old_period, w.period
      from pg_temp.external_have as h
      join pg_temp.external_want as w on w.period && h.period
     where (select count(*) from pg_temp.external_want as w2 where w2.period && h.period) = 1
       and (select count(*) from pg_temp.external_have as h2 where h2.period && w.period) = 1
  ), moved as (
    update slotoptim_private.appointment as a
       set period = pairs.period
      from pairs
     where a.id = pairs.id
    returning a.id, a.period, not (pairs.period @> pairs.old_period) as freed
  ), placed as (
    delete from pg_temp.external_want as w using moved where w.period = moved.period
  ), done as (
    delete from pg_temp.external_have as h using moved where h.id = moved.id returning moved.freed
  )
  select count(*) filter (where done.freed) into released from done;

  -- What is left of the old no longer matches: cancelled, like any cancellation.
  perform slotoptim.cancel_appointment(h.id, p_at)
     from pg_temp.external_have as h
     join slotoptim_private.appointment as a on a.id = h.id
    where a.status in ('booked', 'confirmed');
  released := released + (select count(*)::integer from pg_temp.external_have);

  -- New busy ranges, in one statement. The gaps they fill are locked and consumed once for the
  -- statement rather than by the appointment trigger row by row (slotoptim.gaps_by_statement):
  -- an initial sync inserts thousands of rows, nearly none of them over a live gap.
  select coalesce(range_agg(w.period), '{}') into v_new
    from pg_temp.external_want as w where not isempty(w.period);
  if not isempty(v_new) then
    perform slotoptim_private.lock_gaps_for_write(v_connection.provider_id, v_new, '{}');
    select coalesce(range_agg(g.during), '{}') into v_live_gaps
      from slotoptim_private.gap as g
     where g.provider_id = v_connection.provider_id and g.status in ('open', 'offering') and g.during && v_new;
    perform pg_catalog.set_config('slotoptim.gaps_by_statement', 'on', true);
    with inserted as (
      insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period,
                                                 buffer_after_minutes, status, source, booked_at)
      select v_connection.org_id, v_connection.provider_id, null, null, w.period, 0, 'booked', 'external', p_at
        from pg_temp.external_want as w
       where not isempty(w.period)
      returning id, blocked
    )
    select count(*)::integer, coalesce(array_agg(inserted.id) filter (where inserted.blocked && v_live_gaps), '{}')
      into imported, v_filling
      from inserted;
    perform pg_catalog.set_config('slotoptim.gaps_by_statement', 'off', true);
    perform slotoptim_private.consume_gaps(f.id, p_at) from unnest(v_filling) as f(id);
  end if;

  -- Each busy item points at the appointment that holds its time. The holders are read in one
  -- index scan; holders and items are sorted together by start, and each item takes the last
  -- holder that starts at or before it (a busy item lies inside exactly one holder). A conflict
  -- item may start under a SlotOptim booking, so those few are looked up one by one.
  with holders as (
    select a.id, a.blocked
      from slotoptim_private.appointment as a
     where a.provider_id = v_connection.provider_id and a.blocked && v_want
       and a.status in ('booked', 'confirmed', 'arrived', 'completed') and a.source = 'external'
  ), items as (
    select j.id, j.period
      from slotoptim_private.external_item as j
     where j.connection_id = p_connection_id and j.origin = 'external' and j.state in ('busy', 'conflict')
       and j.period && v_want
  ), marks as (
    select lower(h.blocked) as start, 0 as kind, h.id as holder, h.blocked, null::bigint as item_id,
           null::tstzrange as period
      from holders as h
    union all
    select lower(i.period), 1, null, null, i.id, i.period from items as i
  ), grouped as (
    select m.*, count(m.holder) over (order by m.start, m.kind rows unbounded preceding) as grp from marks as m
  ), carried as (
    select g.item_id, g.period, first_value(g.holder) over w as holder, first_value(g.blocked) over w as blocked
      from grouped as g
    window w as (partition by g.grp order by g.kind, g.start)
  )
  update slotoptim_private.external_item as i
     set appointment_id = c.holder
    from carried as c
   where i.id = c.item_id and c.holder is not null and c.blocked && c.period
     and i.appointment_id is distinct from c.holder;
  update slotoptim_private.external_item as i
     set appointment_id = x.appointment_id
    from (select j.id,
                 (select a.id
                    from slotoptim_private.appointment as a
                   where a.provider_id = v_connection.provider_id and a.blocked && j.period
                     and a.status in ('booked', 'confirmed', 'arrived', 'completed') and a.source = 'external'
                   limit 1) as appointment_id
            from slotoptim_private.external_item as j
           where j.connection_id = p_connection_id and j.origin = 'external' and j.state = 'conflict'
             and j.period && v_want) as x
   where i.id = x.id and x.appointment_id is not null and i.appointment_id is distinct from x.appointment_id;
end;
$$;

-- Applies one page of normalised items of a connection. Each item is
--   {"id": text, "etag": text, "start": timestamptz, "end": timestamptz, "busy": boolean, "ours": bigint,
--    "group": text}
-- "busy" false (or no start/end) means the time is free; "ours" is set when the item carries our
-- own appointment id (our echo); "group" (an id prefix) says the page lists every item of that
-- group, so the group's items it omits are released. The mirror is updated in bulk, then the
-- connection's blocking time is reconciled over the time that changed.
-- Returns counts: imported, released, echoes, conflicts.
create or replace function slotoptim.apply_external_items(connection_id bigint, items jsonb, generation integer,
                                                          at timestamptz default now())
returns table (imported integer, released integer, echoes integer, conflicts integer)
language plpgsql
volatile
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_previous_clock text := slotoptim_private.set_clock(apply_external_items.at);
  v_connection slotoptim_private.external_connection;
  v_dirty tstzmultirange := '{}';
  v_more tstzmultirange;
  v_echoes integer := 0;
  v_groups text[];
  v_result record;
begin
  select c.* into v_connection
    from slotoptim_private.external_connection as c where c.id = apply_external_items.connection_id;
  if v_connection.id is null or v_connection.provider_id is null then
    raise exception using errcode = 'no_data_found',
      message = format('no provider connection %s', apply_external_items.connection_id);
  end if;
  if jsonb_typeof(apply_external_items.items) <> 'array' then
    raise exception using errcode = 'invalid_parameter_value', message = 'items must be a JSON array';
  end if;

  create temporary table if not exists pg_temp.external_page (
    external_id text primary key, etag text, period tstzrange, ours bigint, grp text) on commit drop;
  truncate pg_temp.external_page;
  -- The last mention of an id in a page wins (a replayed item).
  insert into pg_temp.external_page
  select distinct on (x.id) x.id, x.etag,
         case when coalesce(x.busy, false) and x.start is not null and x."end" is not null and x.start < x."end"
              then pg_catalog.tstzrange(x.start, x."end", '[)') end,
         x.ours, x."group"
    from rows from (jsonb_to_recordset(apply_external_items.items)
                    as (id text, etag text, start timestamptz, "end" timestamptz, busy boolean, ours bigint,
                        "group" text)) with ordinality as x(id, etag, start, "end", busy, ours, "group", n)
   order by x.id, x.n desc;
  if exists (select 1 from pg_temp.external_page where external_id is null or external_id = '') then
    raise exception using errcode = 'invalid_parameter_value', message = 'every item needs an "id"';
  end if;

  -- Our own bookings coming back: remember the etag, never import them as busy time.
  with echoes as (
    insert into slotoptim_private.external_item as i (org_id, connection_id, external_id, etag, origin, appointment_id,
                                                      period, state, seen_generation, updated_at)
    select v_connection.org_id, v_connection.id, p.external_id, p.etag, 'slotoptim', a.id, p.period,
           case when p.period is null then 'free' else 'busy' end, apply_external_items.generation,
           apply_external_items.at
      from pg_temp.external_page as p
      left join slotoptim_private.external_item as known
        on known.connection_id = v_connection.id and known.external_id = p.external_id
      left join slotoptim_private.appointment as a on a.id = p.ours and a.org_id = v_connection.org_id
     where p.ours is not null or known.origin = 'slotoptim'
    on conflict on constraint external_item_connection_id_external_id_key do update
      set etag = excluded.etag, seen_generation = excluded.seen_generation, updated_at = excluded.updated_at,
          origin = 'slotoptim', appointment_id = coalesce(excluded.appointment_id, i.appointment_id)
    returning i.external_id
  )
  delete from pg_temp.external_page as p using echoes where p.external_id = echoes.external_id;
  get diagnostics v_echoes = row_count;

  -- The time that changes: where listed items were, and where they are now.
  select coalesce(range_agg(i.period), '{}') into v_dirty
    from slotoptim_private.external_item as i
    join pg_temp.external_page as p on p.external_id = i.external_id
   where i.connection_id = v_connection.id and i.state in ('busy', 'conflict') and i.period is not null
     and i.period is distinct from p.period;
  select v_dirty + coalesce(range_agg(p.period), '{}') into v_dirty
    from pg_temp.external_page as p
    left join slotoptim_private.external_item as i
      on i.connection_id = v_connection.id and i.external_id = p.external_id
   where p.period is not null and (i.id is null or i.period is distinct from p.period or i.state = 'free');

  -- Free items the mirror does not know (tombstones of events never seen) are not stored.
  insert into slotoptim_private.external_item as i (org_id, connection_id, external_id, etag, origin, period, state,
                                                    seen_generation, updated_at)
  select v_connection.org_id, v_connection.id, p.external_id, p.etag, 'external', p.period, 'busy',
         apply_external_items.generation, apply_external_items.at
    from pg_temp.external_page as p
   where p.period is not null
  on conflict on constraint external_item_connection_id_external_id_key do update
    set etag = excluded.etag, period = excluded.period,
        state = case when i.state = 'conflict' and i.period = excluded.period then 'conflict' else 'busy' end,
        seen_generation = excluded.seen_generation, updated_at = excluded.updated_at;
  -- Freed: keep the last period, so a tombstone still says which time it held.
  update slotoptim_private.external_item as i
     set etag = coalesce(p.etag, i.etag), state = 'free', seen_generation = apply_external_items.generation,
         updated_at = apply_external_items.at
    from pg_temp.external_page as p
   where i.connection_id = v_connection.id and i.external_id = p.external_id and p.period is null;

  -- Groups listed in full (the instances of one recurring CalDAV resource): the rest are gone.
  v_groups := array(select distinct p.grp from pg_temp.external_page as p where p.grp is not null);
  with gone as (
    update slotoptim_private.external_item as i
       set state = 'free', seen_generation = apply_external_items.generation, updated_at = apply_external_items.at
     where i.connection_id = v_connection.id and i.origin = 'external' and i.state in ('busy', 'conflict')
       and cardinality(v_groups) > 0
       and exists (select 1 from unnest(v_groups) as g(prefix) where pg_catalog.starts_with(i.external_id, g.prefix))
       and not exists (select 1 from pg_temp.external_page as p where p.external_id = i.external_id)
    returning i.period
  )
  select coalesce(range_agg(gone.period), '{}') into v_more from gone;
  v_dirty := v_dirty + v_more;

  v_result := slotoptim_private.reconcile_external(v_connection.id, v_dirty, apply_external_items.at);
  imported := v_result.imported;
  released := v_result.released;
  echoes := v_echoes;
  conflicts := v_result.conflicts;

  update slotoptim_private.external_connection as c
     set items_imported = c.items_imported + imported, items_released = c.items_released + released,
         conflicts = c.conflicts + apply_external_items.conflicts
   where c.id = v_connection.id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return next;
end;
$$;

comment on function slotoptim.apply_external_items(bigint, jsonb, integer, timestamptz) is
  'Applies normalised external items: their busy time becomes blocking appointments (source external, overlapping events merged), freed time is cancelled like any cancellation. Returns counts.';

-- Releases the busy items of a connection that the full sync of `generation` did not list.
-- An EHR's items are appointments one for one (not a union of busy time): they are released
-- item by item (slotoptim_private.release_ehr_items).
create or replace function slotoptim_private.release_external_items(p_connection_id bigint, p_generation integer,
                                                                   p_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_dirty tstzmultirange;
  v_result record;
begin
  if exists (select 1 from slotoptim_private.external_connection as c
              where c.id = p_connection_id and c.purpose = 'fhir') then
    return slotoptim_private.release_ehr_items(p_connection_id, p_generation, p_at);
  end if;
  with gone as (
    update slotoptim_private.external_item as i
       set state = 'free', updated_at = p_at
     where i.connection_id = p_connection_id and i.origin = 'external' and i.state in ('busy', 'conflict')
       and i.seen_generation < p_generation
    returning i.period
  )
  select coalesce(range_agg(gone.period), '{}') into v_dirty from gone;
  v_result := slotoptim_private.reconcile_external(p_connection_id, v_dirty, p_at);
  return v_result.released;
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
