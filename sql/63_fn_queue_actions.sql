-- The steps of a visit through the queue: check-in, walk-in, call next, start, done, no-show,
-- left. Each takes the time it happens at; start and done write the appointment's actual_start
-- and actual_end, which the learned durations and the no-show model read.

-- The next ticket of a location (or provider) for the day: a letter and three digits.
create or replace function slotoptim_private.queue_ticket(p_org_id bigint, p_location_id bigint, p_provider_id bigint,
                                                         p_letter text, p_at timestamptz)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_tz text;
  v_count integer;
begin
  -- Two check-ins at one desk at once must not get the same number.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'queue_ticket:' || p_org_id || ':' || coalesce(p_location_id, 0) || ':' || coalesce(p_provider_id, 0), 0));
  select o.timezone into v_tz from slotoptim_private.organisation as o where o.id = p_org_id;
  select count(*) into v_count
    from slotoptim_private.queue_entry as e
   where e.org_id = p_org_id
     and e.location_id is not distinct from p_location_id
     and (p_location_id is not null or e.provider_id = p_provider_id)
     and e.ticket like p_letter || '%'
     and (e.arrived_at at time zone v_tz)::date = (p_at at time zone v_tz)::date;
  return p_letter || pg_catalog.lpad(((v_count % 999) + 1)::text, 3, '0');
end;
$$;

comment on function slotoptim_private.queue_ticket(bigint, bigint, bigint, text, timestamptz) is
  'The next ticket of the day for a location (or a provider without one): A001 for appointments, W001 for walk-ins.';

-- A first name for the waiting-room screen: the first word of the name, at most 20 characters.
create or replace function slotoptim_private.queue_first_name(p_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select nullif(pg_catalog.left(pg_catalog.split_part(pg_catalog.btrim(p_name), ' ', 1), 20), '');
$$;

comment on function slotoptim_private.queue_first_name(text) is 'The first word of a name, as the waiting-room screen may show it.';

-- Check-in of a booked appointment: the customer is here. Idempotent: checking in twice returns
-- the live entry. Only appointments of the day (local date of the organisation) can check in.
create or replace function slotoptim.queue_check_in(org_id bigint, appointment_id bigint, source text default 'staff',
                                                    flags text[] default '{}', at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(queue_check_in.at);
  v_appointment slotoptim_private.appointment;
  v_entry_id bigint;
  v_location_id bigint;
  v_tz text;
begin
  if queue_check_in.source not in ('staff', 'kiosk', 'link', 'sms') then
    raise exception using errcode = 'check_violation',
      message = format('source: %s is not one of staff, kiosk, link, sms', queue_check_in.source);
  end if;
  select a.* into v_appointment
    from slotoptim_private.appointment as a
   where a.id = queue_check_in.appointment_id and a.org_id = queue_check_in.org_id
     for update;
  if v_appointment.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('appointment: unknown appointment %s', queue_check_in.appointment_id);
  end if;
  select e.id into v_entry_id
    from slotoptim_private.queue_entry as e
   where e.appointment_id = v_appointment.id and e.status in ('waiting', 'called', 'in_service');
  if v_entry_id is not null then
    return v_entry_id;
  end if;
  if v_appointment.status not in ('booked', 'confirmed', 'arrived') then
    raise exception using errcode = 'check_violation',
      message = format('appointment: %s is %s and cannot check in', v_appointment.id, v_appointment.status);
  end if;
  select o.timezone into v_tz from slotoptim_private.organisation as o where o.id = queue_check_in.org_id;
  if (lower(v_appointment.period) at time zone v_tz)::date <> (queue_check_in.at at time zone v_tz)::date then
    raise exception using errcode = 'check_violation',
      message = format('appointment: %s is not today', v_appointment.id);
  end if;
  perform slotoptim_private.queue_check_flags(queue_check_in.org_id, queue_check_in.flags);

  select p.location_id into v_location_id from slotoptim_private.provider as p where p.id = v_appointment.provider_id;
  insert into slotoptim_private.queue_entry
    (org_id, provider_id, location_id, service_id, appointment_id, customer_id, ticket, first_name, flags, source,
     arrived_at)
  select queue_check_in.org_id, v_appointment.provider_id, v_location_id, v_appointment.service_id, v_appointment.id,
         v_appointment.customer_id,
         slotoptim_private.queue_ticket(queue_check_in.org_id, v_location_id, v_appointment.provider_id, 'A',
                                        queue_check_in.at),
         slotoptim_private.queue_first_name((select c.name from slotoptim_private.customer as c
                                              where c.id = v_appointment.customer_id)),
         queue_check_in.flags, queue_check_in.source, queue_check_in.at
  returning id into v_entry_id;

  update slotoptim_private.appointment as a set status = 'arrived'
   where a.id = v_appointment.id and a.status in ('booked', 'confirmed');
  perform slotoptim_private.queue_note_first_estimate(v_entry_id, queue_check_in.at);
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return v_entry_id;
end;
$$;

comment on function slotoptim.queue_check_in(bigint, bigint, text, text[], timestamptz) is
  'Checks a booked appointment of the day in (staff, kiosk, link or sms): a waiting entry in its provider''s queue; idempotent.';

-- Flags must be the organisation's own.
create or replace function slotoptim_private.queue_check_flags(p_org_id bigint, p_flags text[])
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  v_unknown text;
begin
  select f into v_unknown
    from pg_catalog.unnest(coalesce(p_flags, '{}')) as f
   where not exists (select 1 from slotoptim_private.queue_flag as q where q.org_id = p_org_id and q.key = f)
   limit 1;
  if v_unknown is not null then
    raise exception using errcode = 'check_violation', message = format('flags: unknown flag %s', v_unknown);
  end if;
end;
$$;

comment on function slotoptim_private.queue_check_flags(bigint, text[]) is 'Refuses priority flags the organisation has not defined.';

-- A walk-in joins a provider's queue, or a location's pool (provider_id null), when the practice
-- takes walk-ins and fewer than overflow_threshold people wait there.
create or replace function slotoptim.queue_walk_in(org_id bigint, provider_id bigint, location_id bigint,
                                                   service_id bigint, name text, customer_id bigint default null,
                                                   flags text[] default '{}', at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_config record;
  v_location_id bigint := queue_walk_in.location_id;
  v_waiting integer;
  v_entry_id bigint;
begin
  select * into v_config from slotoptim_private.queue_config(queue_walk_in.org_id);
  if not v_config.allow_walk_ins then
    raise exception using errcode = 'check_violation', message = 'walk_in: this practice does not take walk-ins';
  end if;
  if queue_walk_in.provider_id is not null then
    select p.location_id into v_location_id
      from slotoptim_private.provider as p
     where p.id = queue_walk_in.provider_id and p.org_id = queue_walk_in.org_id;
    if not found then
      raise exception using errcode = 'no_data_found', message = format('provider: unknown provider %s', queue_walk_in.provider_id);
    end if;
  elsif v_location_id is null then
    raise exception using errcode = 'check_violation', message = 'provider: a walk-in needs a provider or a location';
  end if;
  perform slotoptim_private.queue_check_flags(queue_walk_in.org_id, queue_walk_in.flags);
  -- Serialise joins of one queue so the overflow count is exact.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'queue_join:' || queue_walk_in.org_id || ':' || coalesce(queue_walk_in.provider_id, 0) || ':' || coalesce(v_location_id, 0), 0));
  select count(*) into v_waiting
    from slotoptim_private.queue_entry as e
   where e.org_id = queue_walk_in.org_id and e.status = 'waiting'
     and e.provider_id is not distinct from queue_walk_in.provider_id
     and (queue_walk_in.provider_id is not null or e.location_id = v_location_id);
  if v_waiting >= v_config.overflow_threshold then
    raise exception using errcode = 'check_violation',
      message = format('walk_in: the queue is full (%s waiting, threshold %s)', v_waiting, v_config.overflow_threshold);
  end if;

  insert into slotoptim_private.queue_entry
    (org_id, provider_id, location_id, service_id, customer_id, ticket, first_name, flags, source, arrived_at)
  values (queue_walk_in.org_id, queue_walk_in.provider_id, v_location_id, queue_walk_in.service_id,
          queue_walk_in.customer_id,
          slotoptim_private.queue_ticket(queue_walk_in.org_id, v_location_id, queue_walk_in.provider_id, 'W', queue_walk_in.at),
          slotoptim_private.queue_first_name(queue_walk_in.name), queue_walk_in.flags, 'walk_in', queue_walk_in.at)
  returning id into v_entry_id;
  perform slotoptim_private.queue_note_first_estimate(v_entry_id, queue_walk_in.at);
  return v_entry_id;
end;
$$;

comment on function slotoptim.queue_walk_in(bigint, bigint, bigint, bigint, text, bigint, text[], timestamptz) is
  'A walk-in joins a provider''s queue or a location pool, if walk-ins are allowed and the queue is below its overflow threshold.';

-- Calls the best waiting entry for the provider. Entries another caller holds are skipped
-- (SKIP LOCKED): two desks pressing "call next" at once call two different people. A pool entry
-- becomes the calling provider's. Null when nobody is waiting.
create or replace function slotoptim.queue_call_next(org_id bigint, provider_id bigint, called_by text default null,
                                                     at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_candidate bigint;
  v_entry_id bigint;
begin
  if not exists (select 1 from slotoptim_private.provider as p
                  where p.id = queue_call_next.provider_id and p.org_id = queue_call_next.org_id) then
    raise exception using errcode = 'no_data_found', message = format('provider: unknown provider %s', queue_call_next.provider_id);
  end if;
  for v_candidate in
    select o.entry_id from slotoptim.queue_order(queue_call_next.org_id, queue_call_next.provider_id, queue_call_next.at) as o
     order by o.queue_position
  loop
    select e.id into v_entry_id
      from slotoptim_private.queue_entry as e
     where e.id = v_candidate and e.status = 'waiting'
       for update skip locked;
    if v_entry_id is not null then
      update slotoptim_private.queue_entry as e
         set status = 'called', called_at = queue_call_next.at, called_by = queue_call_next.called_by,
             provider_id = queue_call_next.provider_id
       where e.id = v_entry_id;
      return v_entry_id;
    end if;
  end loop;
  return null;
end;
$$;

comment on function slotoptim.queue_call_next(bigint, bigint, text, timestamptz) is
  'Calls the provider''s best waiting entry (SKIP LOCKED: concurrent callers never call the same person); null when none waits.';

-- Moves one entry: 'start' (waiting or called -> in_service), 'done' (in_service -> done),
-- 'no_show' (waiting or called -> left, the appointment a no-show), 'left' (a live entry went away),
-- 'recall' (called -> waiting). Anything else is refused with the entry's current status.
create or replace function slotoptim.queue_move(org_id bigint, entry_id bigint, action text,
                                                at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(queue_move.at);
  v_entry slotoptim_private.queue_entry;
  v_from text[];
begin
  v_from := case queue_move.action
    when 'start' then array['waiting', 'called']
    when 'done' then array['in_service']
    when 'no_show' then array['waiting', 'called']
    when 'left' then array['waiting', 'called', 'in_service']
    when 'recall' then array['called']
  end;
  if v_from is null then
    raise exception using errcode = 'check_violation',
      message = format('action: %s is not one of start, done, no_show, left, recall', queue_move.action);
  end if;
  select e.* into v_entry
    from slotoptim_private.queue_entry as e
   where e.id = queue_move.entry_id and e.org_id = queue_move.org_id
     for update;
  if v_entry.id is null then
    raise exception using errcode = 'no_data_found', message = format('entry: unknown queue entry %s', queue_move.entry_id);
  end if;
  if not v_entry.status = any (v_from) then
    raise exception using errcode = 'check_violation',
      message = format('entry: %s is %s, so it cannot %s', v_entry.id, v_entry.status, queue_move.action);
  end if;
  if queue_move.at < v_entry.arrived_at then
    raise exception using errcode = 'check_violation', message = format('at: before entry %s arrived', v_entry.id);
  end if;

  if queue_move.action = 'start' then
    update slotoptim_private.queue_entry as e
       set status = 'in_service', called_at = coalesce(e.called_at, queue_move.at), started_at = queue_move.at
     where e.id = v_entry.id;
    update slotoptim_private.appointment as a set actual_start = queue_move.at where a.id = v_entry.appointment_id;
  elsif queue_move.action = 'done' then
    update slotoptim_private.queue_entry as e set status = 'done', ended_at = queue_move.at where e.id = v_entry.id;
    update slotoptim_private.appointment as a
       set actual_end = queue_move.at, status = 'completed'
     where a.id = v_entry.appointment_id and a.status in ('booked', 'confirmed', 'arrived');
  elsif queue_move.action = 'no_show' then
    update slotoptim_private.queue_entry as e
       set status = 'left', left_reason = 'no_show', left_at = queue_move.at
     where e.id = v_entry.id;
    update slotoptim_private.appointment as a set status = 'no_show'
     where a.id = v_entry.appointment_id and a.status in ('booked', 'confirmed', 'arrived');
  elsif queue_move.action = 'left' then
    update slotoptim_private.queue_entry as e
       set status = 'left', left_reason = 'left', left_at = queue_move.at,
           ended_at = case when e.status = 'in_service' then queue_move.at end
     where e.id = v_entry.id;
  else
    update slotoptim_private.queue_entry as e set status = 'waiting', called_at = null, called_by = null
     where e.id = v_entry.id;
  end if;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return (select e.status from slotoptim_private.queue_entry as e where e.id = v_entry.id);
end;
$$;

comment on function slotoptim.queue_move(bigint, bigint, text, timestamptz) is
  'Moves a queue entry (start, done, no_show, left, recall) and writes the appointment''s actual_start, actual_end or no-show.';

-- An inbound "HERE" (or a phone number typed at the kiosk): checks in this phone's appointment of
-- the day, the first one not ended more than 2 hours before p_at. Null when there is none.
create or replace function slotoptim_private.queue_check_in_by_phone(p_org_id bigint, p_phone text, p_at timestamptz,
                                                                    p_source text default 'sms')
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_appointment_id bigint;
  v_tz text;
begin
  select o.timezone into v_tz from slotoptim_private.organisation as o where o.id = p_org_id;
  select a.id into v_appointment_id
    from slotoptim_private.appointment as a
    join slotoptim_private.customer as c on c.id = a.customer_id
   where a.org_id = p_org_id and c.phone = p_phone
     and a.status in ('booked', 'confirmed', 'arrived')
     and (lower(a.period) at time zone v_tz)::date = (p_at at time zone v_tz)::date
     and upper(a.period) > p_at - interval '2 hours'
   order by lower(a.period), a.id
   limit 1;
  if v_appointment_id is null then
    return null;
  end if;
  return slotoptim.queue_check_in(p_org_id, v_appointment_id, p_source, '{}', p_at);
end;
$$;

comment on function slotoptim_private.queue_check_in_by_phone(bigint, text, timestamptz, text) is
  'Checks in the appointment of the day of the customer with this phone (an inbound HERE, the kiosk); null when there is none.';
