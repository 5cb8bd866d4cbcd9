-- Queue measures (seed 001's QueueMetrics): per provider, local day and hour.

-- Per organisation, provider, local day and hour, as known at `at`:
--   arrivals (check-ins and walk-ins by arrival hour), served (visits started that hour and done),
--   no_shows (booked appointments of that hour marked no-show, and queue entries called and gone),
--   mean and max wait (arrival to call, by arrival hour; people still waiting count until `at`),
--   mean service minutes (start to end), and the peak and mean queue length (people waiting,
--   sampled each minute; the mean is over the hour's 60 minutes).
-- Waiting pool entries not yet called by a provider count under provider_key null.
create or replace function slotoptim.queue_metrics(at timestamptz default now())
returns table (
  org_key text,
  provider_key text,
  day date,
  hour integer,
  arrivals integer,
  served integer,
  no_shows integer,
  mean_wait_minutes numeric,
  max_wait_minutes numeric,
  mean_service_minutes numeric,
  peak_queue_length integer,
  mean_queue_length numeric
)
language sql
stable
set search_path = ''
as $$
  with entries as (
    select e.*, o.key as org, p.key as prov, coalesce(p.timezone, o.timezone) as tz,
           least(coalesce(e.called_at, e.started_at, e.left_at, queue_metrics.at), queue_metrics.at) as wait_end
      from slotoptim_private.queue_entry as e
      join slotoptim_private.organisation as o on o.id = e.org_id
      left join slotoptim_private.provider as p on p.id = e.provider_id
     where e.arrived_at <= queue_metrics.at
  ), arrivals as (
    select en.org, en.prov, date_trunc('hour', en.arrived_at at time zone en.tz) as h, count(*) as n,
           avg(extract(epoch from en.wait_end - en.arrived_at) / 60) as mean_wait,
           max(extract(epoch from en.wait_end - en.arrived_at) / 60) as max_wait
      from entries as en
     group by 1, 2, 3
  ), served as (
    select en.org, en.prov, date_trunc('hour', en.started_at at time zone en.tz) as h, count(*) as n,
           avg(extract(epoch from en.ended_at - en.started_at) / 60) as mean_service
      from entries as en
     where en.status = 'done' and en.ended_at <= queue_metrics.at
     group by 1, 2, 3
  ), no_shows as (
    select o.key as org, p.key as prov, date_trunc('hour', lower(a.period) at time zone p.timezone) as h, count(*) as n
      from slotoptim_private.appointment as a
      join slotoptim_private.organisation as o on o.id = a.org_id
      join slotoptim_private.provider as p on p.id = a.provider_id
     where a.status = 'no_show' and lower(a.period) <= queue_metrics.at
     group by 1, 2, 3
    union all
    select en.org, en.prov, date_trunc('hour', en.left_at at time zone en.tz), count(*)
      from entries as en
     where en.left_reason = 'no_show' and en.appointment_id is null
     group by 1, 2, 3
  ), minutes as (
    select en.org, en.prov, date_trunc('minute', m.t at time zone en.tz) as minute, count(*) as waiting
      from entries as en
      cross join lateral generate_series(en.arrived_at, en.wait_end - interval '1 second', interval '1 minute') as m(t)
     where en.wait_end > en.arrived_at
     group by 1, 2, 3
  ), lengths as (
    select mi.org, mi.prov, date_trunc('hour', mi.minute) as h, max(mi.waiting) as peak, sum(mi.waiting) / 60.0 as mean
      from minutes as mi
     group by 1, 2, 3
  ), hours as (
    select a.org, a.prov, a.h from arrivals as a
    union select s.org, s.prov, s.h from served as s
    union select n.org, n.prov, n.h from no_shows as n
    union select l.org, l.prov, l.h from lengths as l
  )
  select h.org, h.prov, h.h::date, extract(hour from h.h)::integer,
         coalesce(a.n, 0)::integer, coalesce(s.n, 0)::integer,
         coalesce((select sum(n.n) from no_shows as n
                    where n.org = h.org and n.prov is not distinct from h.prov and n.h = h.h), 0)::integer,
         round(a.mean_wait::numeric, 1), round(a.max_wait::numeric, 1), round(s.mean_service::numeric, 1),
         coalesce(l.peak, 0)::integer, round(coalesce(l.mean, 0)::numeric, 2)
    from hours as h
    left join arrivals as a on a.org = h.org and a.prov is not distinct from h.prov and a.h = h.h
    left join served as s on s.org = h.org and s.prov is not distinct from h.prov and s.h = h.h
    left join lengths as l on l.org = h.org and l.prov is not distinct from h.prov and l.h = h.h
   order by 1, 2, 3, 4;
$$;

comment on function slotoptim.queue_metrics(timestamptz) is
  'Queue measures per organisation, provider, local day and hour as known at `at`: arrivals, served, no-shows, waits, service time, queue length.';

create or replace view slotoptim.queue_metrics_hourly with (security_invoker = true) as
select m.org_key, m.provider_key, m.day, m.hour, m.arrivals, m.served, m.no_shows, m.mean_wait_minutes,
       m.max_wait_minutes, m.mean_service_minutes, m.peak_queue_length, m.mean_queue_length
  from slotoptim.queue_metrics() as m;

comment on view slotoptim.queue_metrics_hourly is 'Queue measures per provider, local day and hour, as of now (seed 001 QueueMetrics).';
comment on column slotoptim.queue_metrics_hourly.org_key is 'Organisation key.';
comment on column slotoptim.queue_metrics_hourly.provider_key is 'Provider key; null for pool entries nobody has called yet.';
comment on column slotoptim.queue_metrics_hourly.day is 'Local date of the provider (the organisation''s for pool entries).';
comment on column slotoptim.queue_metrics_hourly.hour is 'Local hour, 0-23.';
comment on column slotoptim.queue_metrics_hourly.arrivals is 'Check-ins and walk-ins that arrived in this hour.';
comment on column slotoptim.queue_metrics_hourly.served is 'Visits started in this hour and finished.';
comment on column slotoptim.queue_metrics_hourly.no_shows is 'Appointments of this hour marked no-show, and walk-ins called who did not come.';
comment on column slotoptim.queue_metrics_hourly.mean_wait_minutes is 'Mean minutes from arrival to being called, by arrival hour (still waiting: until now).';
comment on column slotoptim.queue_metrics_hourly.max_wait_minutes is 'Longest wait from arrival to call, by arrival hour.';
comment on column slotoptim.queue_metrics_hourly.mean_service_minutes is 'Mean minutes from start to end of the visits started this hour.';
comment on column slotoptim.queue_metrics_hourly.peak_queue_length is 'Most people waiting at once (sampled each minute).';
comment on column slotoptim.queue_metrics_hourly.mean_queue_length is 'Mean number of people waiting over the hour''s 60 minutes.';

-- What the waiting-room screen may show: tickets and first names, status, provider display name.
create or replace view slotoptim.queue_board with (security_invoker = true) as
select o.key as org_key,
       l.key as location_key,
       e.id as entry_id,
       e.ticket,
       e.first_name,
       e.status,
       p.key as provider_key,
       p.name as provider_name,
       e.arrived_at,
       e.called_at
  from slotoptim_private.queue_entry as e
  join slotoptim_private.organisation as o on o.id = e.org_id
  left join slotoptim_private.location as l on l.id = e.location_id
  left join slotoptim_private.provider as p on p.id = e.provider_id
 where e.status in ('waiting', 'called', 'in_service');

comment on view slotoptim.queue_board is 'Live queue entries as a waiting-room screen may show them: ticket, first name, status, provider; no health details.';
comment on column slotoptim.queue_board.org_key is 'Organisation key.';
comment on column slotoptim.queue_board.location_key is 'Location key (null: a provider without a location).';
comment on column slotoptim.queue_board.entry_id is 'Queue entry id.';
comment on column slotoptim.queue_board.ticket is 'Ticket number (A001 appointments, W001 walk-ins).';
comment on column slotoptim.queue_board.first_name is 'First name only.';
comment on column slotoptim.queue_board.status is 'waiting, called or in_service.';
comment on column slotoptim.queue_board.provider_key is 'Provider key (null: a pool entry not yet called).';
comment on column slotoptim.queue_board.provider_name is 'Provider display name.';
comment on column slotoptim.queue_board.arrived_at is 'When the customer checked in.';
comment on column slotoptim.queue_board.called_at is 'When the customer was called.';
