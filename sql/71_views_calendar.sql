-- Analyst views of the calendar: appointments, gaps and the waitlist.

create or replace view slotoptim.appointments with (security_invoker = true) as
select a.id,
       o.key as org_key,
       a.key as appointment_key,
       p.key as provider_key,
       s.key as service_key,
       c.key as customer_key,
       a.period,
       (lower(a.period) at time zone p.timezone) as starts_local,
       a.status,
       a.source,
       a.buffer_after_minutes,
       a.blocked,
       a.booked_at,
       a.cancelled_at,
       a.no_show_risk,
       s.price
  from slotoptim_private.appointment as a
  join slotoptim_private.organisation as o on o.id = a.org_id
  join slotoptim_private.provider as p on p.id = a.provider_id
  join slotoptim_private.service as s on s.id = a.service_id
  left join slotoptim_private.customer as c on c.id = a.customer_id;

create or replace view slotoptim.open_gaps with (security_invoker = true) as
select g.id,
       o.key as org_key,
       p.key as provider_key,
       g.during,
       (lower(g.during) at time zone p.timezone) as starts_local,
       (extract(epoch from upper(g.during) - lower(g.during)) / 60)::integer as minutes,
       g.kind,
       g.fits,
       g.status,
       g.opened_at
  from slotoptim_private.gap as g
  join slotoptim_private.organisation as o on o.id = g.org_id
  join slotoptim_private.provider as p on p.id = g.provider_id
 where g.status in ('open', 'offering');

create or replace view slotoptim.waitlist with (security_invoker = true) as
select w.id,
       o.key as org_key,
       w.key as entry_key,
       c.key as customer_key,
       w.status,
       w.tier,
       w.preferred_days,
       w.window_start,
       w.window_end,
       w.earliest_date,
       w.latest_date,
       array(select s.key from slotoptim_private.service as s where s.id = any (w.service_ids) order by s.key) as service_keys,
       case when w.provider_ids is null then null
            else array(select p.key from slotoptim_private.provider as p where p.id = any (w.provider_ids) order by p.key)
       end as provider_keys,
       w.lead_time_minutes,
       w.travel_minutes,
       w.max_travel_minutes,
       w.offers_received,
       w.offers_accepted,
       w.added_at
  from slotoptim_private.waitlist_entry as w
  join slotoptim_private.organisation as o on o.id = w.org_id
  join slotoptim_private.customer as c on c.id = w.customer_id;
