-- Analyst views of the demand forecast (slotoptim_private.demand_forecast, written by
-- `slotoptim ml forecast`): daily and weekly rows, and the weekday x hour heatmap against capacity.

create or replace view slotoptim.demand_forecasts with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       s.key as service_key,
       f.day,
       extract(isodow from f.day)::smallint as weekday,
       f.hour,
       f.expected,
       f.method,
       f.generated_at,
       f.model_version
  from slotoptim_private.demand_forecast as f
  join slotoptim_private.organisation as o on o.id = f.org_id
  join slotoptim_private.provider as p on p.id = f.provider_id
  left join slotoptim_private.service as s on s.id = f.service_id;

-- Weekly totals (Monday-Sunday) of the daily rows; days_covered < 7 marks a week the forecast
-- horizon covers only in part.
create or replace view slotoptim.weekly_demand_forecast with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       s.key as service_key,
       f.day - (extract(isodow from f.day)::integer - 1) as week_start,
       count(*)::integer as days_covered,
       sum(f.expected) as expected
  from slotoptim_private.demand_forecast as f
  join slotoptim_private.organisation as o on o.id = f.org_id
  join slotoptim_private.provider as p on p.id = f.provider_id
  left join slotoptim_private.service as s on s.id = f.service_id
 where f.hour is null
 group by o.key, p.key, s.key, f.day - (extract(isodow from f.day)::integer - 1);

-- Per provider, ISO weekday and local hour: forecast demand (appointments starting in that hour,
-- averaged over the forecast days of that weekday), capacity (working minutes in that hour from the
-- weekly working hours; closures are dates, not weekdays, so they are not subtracted) and their
-- ratio: demand in minutes (appointments x the provider's mean blocked minutes, service plus
-- buffer, over its appointments) over capacity minutes. Above 1: more demand than time.
create or replace view slotoptim.demand_heatmap with (security_invoker = true) as
with demand as (
  select f.org_id,
         f.provider_id,
         extract(isodow from f.day)::smallint as weekday,
         f.hour,
         avg(f.expected) as per_hour,
         count(*)::integer as days
    from slotoptim_private.demand_forecast as f
   where f.hour is not null
     and f.service_id is null
   group by f.org_id, f.provider_id, extract(isodow from f.day), f.hour
),
capacity as (
  select wh.org_id,
         wh.provider_id,
         wh.weekday,
         h.hour::smallint as hour,
         sum(greatest(0, least(extract(epoch from wh.ends_at), (h.hour + 1) * 3600)
                         - greatest(extract(epoch from wh.starts_at), h.hour * 3600)) / 60) as minutes
    from slotoptim_private.working_hours as wh
    cross join generate_series(0, 23) as h(hour)
   where extract(epoch from wh.starts_at) < (h.hour + 1) * 3600
     and extract(epoch from wh.ends_at) > h.hour * 3600
   group by wh.org_id, wh.provider_id, wh.weekday, h.hour
),
appointment_minutes as (
  select a.provider_id,
         avg(extract(epoch from upper(a.blocked) - lower(a.blocked)) / 60) as minutes
    from slotoptim_private.appointment as a
   where a.status <> 'cancelled'
   group by a.provider_id
),
cells as (
  select coalesce(d.org_id, c.org_id) as org_id,
         coalesce(d.provider_id, c.provider_id) as provider_id,
         coalesce(d.weekday, c.weekday) as weekday,
         coalesce(d.hour, c.hour) as hour,
         d.per_hour,
         d.days,
         coalesce(c.minutes, 0) as capacity_minutes
    from demand as d
    full join capacity as c
      on c.provider_id = d.provider_id and c.weekday = d.weekday and c.hour = d.hour
)
select o.key as org_key,
       p.key as provider_key,
       x.weekday,
       x.hour,
       round(x.per_hour, 3) as demand_per_hour,
       round(x.per_hour * m.minutes, 1) as demand_minutes,
       round(x.capacity_minutes, 1) as capacity_minutes,
       case when x.capacity_minutes > 0 then round(x.per_hour * m.minutes / x.capacity_minutes, 3) end as ratio,
       x.days as forecast_days
  from cells as x
  join slotoptim_private.organisation as o on o.id = x.org_id
  join slotoptim_private.provider as p on p.id = x.provider_id
  left join appointment_minutes as m on m.provider_id = x.provider_id;
