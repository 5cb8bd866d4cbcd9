-- Working time of providers inside a window, as a multirange of instants:
-- weekly hours (local wall clock, converted per date in the provider's time zone, so DST is right)
-- minus closures of the organisation, the provider's location, or the provider.
-- A local time that does not exist on a DST day is read the way PostgreSQL reads it; an interval
-- whose end would fall before its start on such a day is empty.
-- working_time, free_time, service_needs, fitting_services and gaps run the same few shapes thousands
-- of times: each keeps a generic plan (plan_cache_mode), where a custom plan per call cost more
-- planning than the call's work (issue 18: 1.14 -> 0.70 ms server CPU for 30 days of one provider).
create or replace function slotoptim_private.working_time(p_provider_ids bigint[], p_during tstzrange)
returns table (provider_id bigint, working tstzmultirange)
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  select p.id,
         coalesce(hours.m, '{}'::tstzmultirange)
         * pg_catalog.tstzmultirange(p_during)
         - coalesce(closed.m, '{}'::tstzmultirange)
    from slotoptim_private.provider as p
    cross join lateral (
      select (lower(p_during) at time zone p.timezone)::date - 1 as first_day,
             (upper(p_during) at time zone p.timezone)::date + 1 as last_day
    ) as span
    left join lateral (
      select pg_catalog.range_agg(pg_catalog.tstzrange(
               shift.starts,
               greatest(shift.starts, shift.ends),
               '[)'))
        from generate_series(0, span.last_day - span.first_day) as offs(n)
        cross join lateral (select span.first_day + offs.n as day) as d
        join slotoptim_private.working_hours as wh
          on wh.provider_id = p.id
         and wh.weekday = extract(isodow from d.day)
        cross join lateral (
          select (d.day + wh.starts_at) at time zone p.timezone as starts,
                 (d.day + wh.ends_at) at time zone p.timezone as ends
        ) as shift
    ) as hours(m) on true
    left join lateral (
      select pg_catalog.range_agg(c.during)
        from slotoptim_private.closure as c
       where c.org_id = p.org_id
         and c.during && p_during
         and (c.provider_id = p.id
              or c.location_id = p.location_id
              or (c.provider_id is null and c.location_id is null))
    ) as closed(m) on true
   where p.id = any(p_provider_ids)
     and not isempty(p_during);
$$;

-- Free time: working time minus the blocked time ([start, end + buffer)) of blocking appointments.
-- Security definer, confined to the caller's organisation by slotoptim_private.caller_org():
-- under row-level security the `blocked && p_during` test could not use the exclusion
-- constraint's index (range operators are not leakproof), and every call would read the
-- provider's whole history (five times slower with two years of it).
create or replace function slotoptim_private.free_time(p_provider_ids bigint[], p_during tstzrange)
returns table (provider_id bigint, free tstzmultirange)
language sql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  with scope as materialized (
    select slotoptim_private.caller_org() as org_id
  )
  select w.provider_id,
         w.working - coalesce(busy.m, '{}'::tstzmultirange)
    from slotoptim_private.working_time(
           array(select p.id
                   from slotoptim_private.provider as p, scope
                  where p.id = any (p_provider_ids)
                    and (scope.org_id is null or p.org_id = scope.org_id)),
           p_during) as w
    left join lateral (
      select pg_catalog.range_agg(a.blocked)
        from slotoptim_private.appointment as a
       where a.provider_id = w.provider_id
         and a.blocked && p_during
         and a.status in ('booked', 'confirmed', 'arrived', 'completed')
    ) as busy(m) on true;
$$;
