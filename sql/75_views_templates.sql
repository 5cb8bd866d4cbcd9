-- The recommended weekly slot template (slotoptim_private.slot_template, written by
-- `slotoptim optimize template --org KEY`) for staff, the booking side and analysts.

-- The active template run of each organisation, one row per provider, local weekday, local hour and
-- service: how many slots of that service to offer in that hour.
create or replace view slotoptim.recommended_template with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       p.timezone,
       t.weekday,
       (array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[t.weekday] as weekday_name,
       t.hour,
       pg_catalog.make_time(t.hour, 0, 0) as hour_starts,
       s.key as service_key,
       s.minutes as service_minutes,
       t.slots,
       t.slots * s.minutes as booked_minutes,
       r.id as run_id,
       r.generated_at,
       r.status
  from slotoptim_private.slot_template as t
  join slotoptim_private.slot_template_run as r on r.id = t.run_id and r.active
  join slotoptim_private.organisation as o on o.id = t.org_id
  join slotoptim_private.provider as p on p.id = t.provider_id
  join slotoptim_private.service as s on s.id = t.service_id;

-- Per provider of the current organisation (all organisations when none is set), local date, local
-- hour and service inside the window: the active template's slots, the appointments of that service
-- already starting in that hour (booked, confirmed, arrived, completed), and the slots still open.
-- What the front desk looks at to book the next request where the template wants it.
create or replace function slotoptim.template_slots(during tstzrange)
returns table (
  provider_key text,
  day date,
  hour smallint,
  service_key text,
  recommended integer,
  booked integer,
  open integer
)
language sql
stable
set search_path = ''
as $$
  with days as (
    select p.id as provider_id, p.key as provider_key, p.timezone, d::date as day
      from slotoptim_private.provider as p
      cross join lateral pg_catalog.generate_series(
        (lower(template_slots.during) at time zone p.timezone)::date,
        ((upper(template_slots.during) - interval '1 microsecond') at time zone p.timezone)::date,
        interval '1 day') as d
     where p.active
       and (slotoptim_private.current_org() is null or p.org_id = slotoptim_private.current_org())
  ),
  cells as (
    select d.provider_id, d.provider_key, d.timezone, d.day, t.hour, t.service_id, t.slots,
           ((d.day + pg_catalog.make_time(t.hour, 0, 0)) at time zone d.timezone) as starts
      from days as d
      join slotoptim_private.slot_template as t
        on t.provider_id = d.provider_id and t.weekday = extract(isodow from d.day)::smallint
      join slotoptim_private.slot_template_run as r on r.id = t.run_id and r.active
  )
  select c.provider_key, c.day, c.hour, s.key, c.slots, coalesce(b.n, 0),
         greatest(c.slots - coalesce(b.n, 0), 0)
    from cells as c
    join slotoptim_private.service as s on s.id = c.service_id
    left join lateral (
      select count(*)::integer as n
        from slotoptim_private.appointment as a
       where a.provider_id = c.provider_id
         and a.service_id = c.service_id
         and a.status in ('booked', 'confirmed', 'arrived', 'completed')
         and lower(a.period) >= c.starts
         and lower(a.period) < c.starts + interval '1 hour'
    ) as b on true
   where c.starts >= lower(template_slots.during)
     and c.starts < upper(template_slots.during)
   order by c.provider_key, c.day, c.hour, s.key;
$$;

comment on function slotoptim.template_slots(tstzrange) is
  'The active slot template laid over real dates: recommended, booked and open slots per provider, local hour and service.';
