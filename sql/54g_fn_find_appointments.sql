-- Potential appointments (IHE ITI-115 $find) and booking one (ITI-117 $book).
--
-- A potential appointment is a start inside a bookable gap where the service and its buffer fit,
-- on a grid of step_minutes from the gap's start, plus the start that ends the buffer exactly at
-- the gap's end. Each is scored 0-100:
--   packing (weight 50): 100 when the slot leaves no unusable fragment (free time before or after
--     it that is shorter than the provider's shortest service need), 50 with one, 0 with two;
--   preference (weight 30): when the patient has an active waitlist entry for the service, 100
--     inside its days and local time window, 0 outside; 50 for a patient without one;
--   earliness (weight 20): 100 at the window's start, falling linearly to 0 at its end.
-- Ties go to the earlier start. The window starts after "at", at the next 5-minute mark (a slot
-- starting right now could no longer be held or booked).
create or replace function slotoptim.find_appointments(
  service_key text,
  during tstzrange,
  provider_key text default null,
  customer_id bigint default null,
  max_results integer default 20,
  step_minutes integer default 15,
  at timestamptz default now()
)
returns table (provider_key text, service_key text, slot tstzrange, blocked tstzrange, score numeric)
language sql
stable
set search_path = ''
as $$
  with win as materialized (
    -- Empty when the whole window lies before "at".
    select pg_catalog.tstzrange(
             least(greatest(lower(find_appointments.during),
                            pg_catalog.date_bin(interval '5 minutes', find_appointments.at,
                                                timestamptz '2000-01-01 00:00+00') + interval '5 minutes'),
                   upper(find_appointments.during)),
             upper(find_appointments.during), '[)') as w
  ),
  svc as materialized (
    select s.id, s.key, s.minutes, s.org_id
      from slotoptim_private.service as s
     where s.key = find_appointments.service_key
       and s.active
       and (slotoptim_private.current_org() is null or s.org_id = slotoptim_private.current_org())
  ),
  prov as materialized (
    select p.id, p.key, p.org_id, svc.id as service_id, svc.key as svc_key, svc.minutes,
           svc.minutes + slotoptim_private.buffer_after(svc.id, p.id, find_appointments.customer_id) as need,
           (select min(n.need_minutes) from slotoptim_private.service_needs(array[p.id]) as n) as min_need
      from svc
      join slotoptim_private.provider_service as ps on ps.service_id = svc.id
      join slotoptim_private.provider as p on p.id = ps.provider_id
     where p.active
       and (find_appointments.provider_key is null or p.key = find_appointments.provider_key)
  ),
  pref as materialized (
    select w.service_ids, w.preferred_days, w.window_start, w.window_end,
           coalesce(c.timezone, o.timezone) as tz
      from slotoptim_private.waitlist_entry as w
      join slotoptim_private.customer as c on c.id = w.customer_id
      join slotoptim_private.organisation as o on o.id = c.org_id
     where w.customer_id = find_appointments.customer_id
       and w.status = 'active'
       and w.service_ids && array(select svc.id from svc)
     order by w.added_at
     limit 1
  ),
  free as (
    select g.provider_id, g.during
      from win
      cross join lateral slotoptim_private.gaps_of(array(select prov.id from prov), win.w) as g
     where g.kind = 'bookable'
  ),
  candidates as (
    select pr.key as provider_key, pr.svc_key, pr.minutes, pr.need, pr.min_need, f.during as gap, st.starts
      from free as f
      join prov as pr on pr.id = f.provider_id
      cross join lateral (
        select lower(f.during) + pg_catalog.make_interval(mins => k * find_appointments.step_minutes) as starts
          from generate_series(
                 0,
                 floor((extract(epoch from upper(f.during) - lower(f.during)) / 60 - pr.need)
                       / find_appointments.step_minutes)::integer) as k
        union
        select upper(f.during) - pg_catalog.make_interval(mins => pr.need)
      ) as st
     where extract(epoch from upper(f.during) - lower(f.during)) / 60 >= pr.need
  ),
  scored as (
    select c.*,
           100 - 50 * (
             (case when extract(epoch from c.starts - lower(c.gap)) / 60 between 0.001 and c.min_need - 0.001
                   then 1 else 0 end)
             + (case when extract(epoch from upper(c.gap) - c.starts) / 60 - c.need between 0.001 and c.min_need - 0.001
                     then 1 else 0 end)) as pack_points,
           case
             when not exists (select 1 from pref) then 50
             when exists (
               select 1 from pref
                where (pref.preferred_days is null
                       or extract(isodow from c.starts at time zone pref.tz)::smallint = any (pref.preferred_days))
                  and (pref.window_start is null
                       or ((c.starts at time zone pref.tz)::time >= pref.window_start
                           and (c.starts at time zone pref.tz)::time < pref.window_end))) then 100
             else 0
           end as pref_points,
           100 * (1 - extract(epoch from c.starts - lower(win.w))
                      / greatest(extract(epoch from upper(win.w) - lower(win.w)), 1)) as early_points
      from candidates as c
      cross join win
  )
  select s.provider_key,
         s.svc_key,
         pg_catalog.tstzrange(s.starts, s.starts + pg_catalog.make_interval(mins => s.minutes), '[)'),
         pg_catalog.tstzrange(s.starts, s.starts + pg_catalog.make_interval(mins => s.need), '[)'),
         round((0.5 * s.pack_points + 0.3 * s.pref_points + 0.2 * s.early_points)::numeric, 2) as score
    from scored as s
   order by score desc, s.starts, s.provider_key
   limit greatest(find_appointments.max_results, 0);
$$;

comment on function slotoptim.find_appointments(text, tstzrange, text, bigint, integer, integer, timestamptz) is
  'Potential appointments for a service in a window (IHE ITI-115 $find): starts inside bookable gaps, ranked by packing, the patient''s waitlist preferences and earliness.';

-- Books a potential appointment for a customer (IHE ITI-117 $book): the slot and its buffer must lie
-- inside the provider's working time and start after "at"; the appointment insert is the final
-- arbiter (appointment_no_overlap raises 23P01 when another booking got there first).
create or replace function slotoptim.book_slot(
  provider_key text,
  service_key text,
  starts timestamptz,
  customer_id bigint,
  source text default 'portal',
  at timestamptz default now()
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous_clock text := slotoptim_private.set_clock(book_slot.at);
  v_provider slotoptim_private.provider;
  v_service slotoptim_private.service;
  v_need integer;
  v_blocked tstzrange;
  v_appointment_id bigint;
begin
  select * into v_provider from slotoptim_private.provider as p
   where p.key = book_slot.provider_key and p.active
     and (slotoptim_private.current_org() is null or p.org_id = slotoptim_private.current_org());
  if v_provider.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown provider %s', book_slot.provider_key);
  end if;
  select s.* into v_service from slotoptim_private.service as s
    join slotoptim_private.provider_service as ps on ps.service_id = s.id and ps.provider_id = v_provider.id
   where s.key = book_slot.service_key and s.active;
  if v_service.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('provider %s does not offer service %s', book_slot.provider_key, book_slot.service_key);
  end if;
  if not exists (select 1 from slotoptim_private.customer as c
                  where c.id = book_slot.customer_id and c.org_id = v_provider.org_id) then
    raise exception using errcode = 'no_data_found', message = format('unknown patient %s', book_slot.customer_id);
  end if;
  if book_slot.starts <= book_slot.at then
    raise exception using errcode = 'check_violation', message = 'the appointment must start in the future';
  end if;
  v_need := v_service.minutes + slotoptim_private.buffer_after(v_service.id, v_provider.id, book_slot.customer_id,
                                                              book_slot.starts);
  v_blocked := pg_catalog.tstzrange(book_slot.starts, book_slot.starts + pg_catalog.make_interval(mins => v_need), '[)');
  if not exists (
    select 1 from slotoptim_private.working_time(array[v_provider.id], v_blocked) as w
     where w.working @> v_blocked
  ) then
    raise exception using errcode = 'check_violation',
      message = format('%s is outside the working time of provider %s', book_slot.starts, book_slot.provider_key);
  end if;
  insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, status, source, booked_at)
  values (v_provider.org_id, v_provider.id, v_service.id, book_slot.customer_id,
          pg_catalog.tstzrange(book_slot.starts, book_slot.starts + pg_catalog.make_interval(mins => v_service.minutes), '[)'),
          'booked', book_slot.source, book_slot.at)
  returning id into v_appointment_id;
  perform pg_catalog.set_config('slotoptim.clock', v_previous_clock, true);
  return v_appointment_id;
end;
$$;

comment on function slotoptim.book_slot(text, text, timestamptz, bigint, text, timestamptz) is
  'Books a service with a provider at a start for a customer (IHE ITI-117 $book); 23P01 when the time was taken.';
