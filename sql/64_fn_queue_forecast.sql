-- Wait estimates: when will each waiting customer be called? From the provider's state (who is in
-- service and since when), the learned distribution of each service's real duration (what
-- completed appointments took: slotoptim_private.duration_records), today's pace, and the booked
-- customers still expected, who will go ahead of early arrivals with later appointments.

-- Learned duration per provider and service (provider_id null: the service across providers),
-- from what finished in the 180 days before p_at: count, mean, variance and quantiles in minutes.
create or replace function slotoptim_private.queue_duration_stats(p_org_id bigint, p_at timestamptz)
returns table (
  provider_id bigint,
  service_id bigint,
  n integer,
  mean_minutes real,
  var_minutes real,
  p10_minutes real,
  p50_minutes real,
  p90_minutes real
)
language sql
stable
set search_path = ''
as $$
  with records as (
    select r.provider_id, r.service_id, r.actual_minutes
      from slotoptim_private.duration_records(p_org_id, p_at) as r
      join slotoptim_private.appointment as a on a.id = r.appointment_id
     where a.actual_end > p_at - interval '180 days'
  )
  select grouped.provider_id, grouped.service_id, count(*)::integer,
         avg(grouped.actual_minutes)::real, coalesce(var_samp(grouped.actual_minutes), 0)::real,
         percentile_cont(0.1) within group (order by grouped.actual_minutes)::real,
         percentile_cont(0.5) within group (order by grouped.actual_minutes)::real,
         percentile_cont(0.9) within group (order by grouped.actual_minutes)::real
    from (select r.provider_id, r.service_id, r.actual_minutes from records as r
          union all
          select null, r.service_id, r.actual_minutes from records as r) as grouped
   group by grouped.provider_id, grouped.service_id;
$$;

comment on function slotoptim_private.queue_duration_stats(bigint, timestamptz) is
  'Learned service durations (minutes) per provider and service, and per service across providers: n, mean, variance, p10, p50, p90.';

-- What is left of a visit in service for p_elapsed minutes: the median and variance of
-- (duration - elapsed) over the learned durations longer than p_elapsed (the provider's own when
-- there are 10, else the service's), else the unconditional mean minus the elapsed time.
create or replace function slotoptim_private.queue_residual(p_org_id bigint, p_provider_id bigint, p_service_id bigint,
                                                           p_elapsed real, p_fallback real, p_at timestamptz)
returns table (median_minutes real, var_minutes real)
language sql
stable
set search_path = ''
as $$
  with longer as (
    select r.provider_id, r.actual_minutes - p_elapsed as rest
      from slotoptim_private.duration_records(p_org_id, p_at) as r
     where r.service_id = p_service_id and r.actual_minutes > p_elapsed
  ), levels as (
    select 1 as level, count(*) as n,
           percentile_cont(0.5) within group (order by l.rest) as med, coalesce(var_samp(l.rest), 0) as v
      from longer as l where l.provider_id = p_provider_id
    union all
    select 2, count(*), percentile_cont(0.5) within group (order by l.rest), coalesce(var_samp(l.rest), 0)
      from longer as l
  )
  select coalesce((select lv.med from levels as lv where lv.n >= 10 order by lv.level limit 1),
                  greatest(1, p_fallback - p_elapsed))::real,
         coalesce((select lv.v from levels as lv where lv.n >= 10 order by lv.level limit 1),
                  pow(0.3 * greatest(1, p_fallback - p_elapsed), 2))::real;
$$;

comment on function slotoptim_private.queue_residual(bigint, bigint, bigint, real, real, timestamptz) is
  'Minutes left of a visit in service for p_elapsed minutes: median and variance of the learned durations longer than that.';

-- Today's pace of a provider: their visits finished today took this many times their learned
-- mean, shrunk towards 1 as if ten more visits had run at the learned pace, within 0.7..1.5.
-- A provider running slow all day stays slow; two long visits change little.
create or replace function slotoptim_private.queue_pace(p_org_id bigint, p_provider_id bigint, p_stats jsonb,
                                                       p_at timestamptz)
returns real
language sql
stable
set search_path = ''
as $$
  with today as (
    select extract(epoch from e.ended_at - e.started_at) / 60 as actual,
           coalesce((p_stats -> (p_provider_id || ':' || e.service_id) ->> 'mean')::real,
                    (p_stats -> (':' || e.service_id) ->> 'mean')::real) as learned
      from slotoptim_private.queue_entry as e
      join slotoptim_private.organisation as o on o.id = e.org_id
     where e.org_id = p_org_id and e.provider_id = p_provider_id and e.status = 'done'
       and e.ended_at <= p_at
       and (e.ended_at at time zone o.timezone)::date = (p_at at time zone o.timezone)::date
  )
  -- Shrunk towards 1 by ten visits at the learned pace: a few long visits are mostly chance.
  select case when count(t.learned) = 0 then 1
              else least(1.5, greatest(0.7,
                     (sum(t.actual) filter (where t.learned is not null) + 10 * avg(t.learned))
                     / (sum(t.learned) + 10 * avg(t.learned))))
         end::real
    from today as t;
$$;

comment on function slotoptim_private.queue_pace(bigint, bigint, jsonb, timestamptz) is
  'A provider''s pace today: actual over learned minutes of the visits finished today, shrunk towards 1.';

-- The provider's minutes behind schedule now: median of (actual start - booked start) of the
-- visits started today, 0 before any.
create or replace function slotoptim.provider_running_late(org_id bigint, provider_id bigint,
                                                           at timestamptz default now())
returns real
language sql
stable
set search_path = ''
as $$
  select coalesce(percentile_cont(0.5) within group (order by extract(epoch from a.actual_start - lower(a.period)) / 60),
                  0)::real
    from slotoptim_private.appointment as a
    join slotoptim_private.organisation as o on o.id = a.org_id
   where a.org_id = provider_running_late.org_id and a.provider_id = provider_running_late.provider_id
     and a.actual_start is not null and a.actual_start <= provider_running_late.at
     and (a.actual_start at time zone o.timezone)::date = (provider_running_late.at at time zone o.timezone)::date;
$$;

comment on function slotoptim.provider_running_late(bigint, bigint, timestamptz) is
  'Minutes a provider runs behind schedule today: the median lateness of the visits started so far.';

-- The forecast of one provider's queue at p_at, by walking the provider's day forward:
--   1. the provider is free once whoever is in service finishes (conditional median of what is
--      left), after anyone already called, and not before their working time resumes;
--   2. waiting customers in queue order, and booked customers not yet here (weighted by their
--      chance to come, expected at their start), who go ahead of waiting customers whose
--      reference time is later, unless those carry a priority flag; a gap in arrivals lets the
--      provider take whoever is already waiting;
--   3. each visit lasts its learned median times today's pace (the median, not the mean: it
--      scored better on replayed days, see slotoptim queue evaluate); pool entries count for 1/c
--      of a visit when c providers can take them.
-- expected_minutes is when each is called, counted from p_at; the 80 % interval is the normal
-- approximation of the sum of the variances ahead. delay_minutes: predicted call minus booked start.
create or replace function slotoptim.queue_forecast(org_id bigint, provider_id bigint, at timestamptz default now())
returns table (
  entry_id bigint,
  appointment_id bigint,
  kind text,
  queue_position integer,
  expected_minutes real,
  low_minutes real,
  high_minutes real,
  delay_minutes real
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_config record;
  v_stats jsonb;
  v_pace real;
  v_free timestamptz := queue_forecast.at;
  v_var real := 0;
  v_row record;
  v_residual record;
  v_ids bigint[] := '{}';
  v_appts bigint[] := '{}';
  v_kinds text[] := '{}';
  v_pos integer[] := '{}';
  v_keys numeric[] := '{}';
  v_ready timestamptz[] := '{}';
  v_starts timestamptz[] := '{}';
  v_mean real[] := '{}';
  v_varr real[] := '{}';
  v_weight real[] := '{}';
  v_done boolean[] := '{}';
  v_pick integer;
  v_next_ready timestamptz;
  v_mean_one real;
  v_var_one real;
  v_working timestamptz;
  v_n integer;
  v_z constant real := 1.2816;  -- the 10th and 90th percentiles of a normal distribution
begin
  select * into v_config from slotoptim_private.queue_config(queue_forecast.org_id);
  select coalesce(jsonb_object_agg(coalesce(s.provider_id::text, '') || ':' || s.service_id,
                                   jsonb_build_object('mean', s.mean_minutes, 'p50', s.p50_minutes, 'var', s.var_minutes, 'n', s.n)), '{}')
    into v_stats
    from slotoptim_private.queue_duration_stats(queue_forecast.org_id, queue_forecast.at) as s
   where v_config.use_historical_data and s.n >= 10;
  v_pace := slotoptim_private.queue_pace(queue_forecast.org_id, queue_forecast.provider_id, v_stats, queue_forecast.at);

  -- 1. The provider's state.
  select min(lower(r)) into v_working
    from slotoptim_private.working_time(array[queue_forecast.provider_id],
                                        tstzrange(queue_forecast.at, queue_forecast.at + interval '14 hours')) as w,
         unnest(w.working) as r;
  for v_row in
    select e.id, e.status, e.service_id, e.started_at, s.minutes
      from slotoptim_private.queue_entry as e
      left join slotoptim_private.service as s on s.id = e.service_id
     where e.org_id = queue_forecast.org_id and e.provider_id = queue_forecast.provider_id
       and e.status in ('called', 'in_service')
     order by e.status desc, e.called_at
  loop
    select mo.m, mo.v into v_mean_one, v_var_one
      from slotoptim_private.queue_visit_minutes(v_stats, queue_forecast.provider_id, v_row.service_id,
                                                 v_row.minutes, v_config.default_service_minutes) as mo(m, v);
    if v_row.status = 'in_service' then
      select * into v_residual
        from slotoptim_private.queue_residual(
          queue_forecast.org_id, queue_forecast.provider_id, v_row.service_id,
          (extract(epoch from queue_forecast.at - v_row.started_at) / 60)::real, v_mean_one, queue_forecast.at);
      v_free := v_free + make_interval(secs => v_residual.median_minutes * v_pace * 60);
      v_var := v_var + v_residual.var_minutes;
    else
      v_free := v_free + make_interval(secs => v_mean_one * v_pace * 60);
      v_var := v_var + v_var_one;
    end if;
    entry_id := v_row.id; appointment_id := null; kind := v_row.status; queue_position := 0;
    expected_minutes := 0; low_minutes := 0; high_minutes := 0; delay_minutes := null;
    return next;
  end loop;
  if v_working is not null and v_working > v_free then
    v_free := v_working;
  end if;

  -- 2. Who comes next: waiting entries, then the booked customers still expected.
  for v_row in
    with ordered as (
      select o.* from slotoptim.queue_order(queue_forecast.org_id, queue_forecast.provider_id, queue_forecast.at) as o
    )
    select o.entry_id as id, e.appointment_id as appt, 'waiting' as kind, o.queue_position as pos,
           o.queue_position::numeric as sort_key, queue_forecast.at as ready, lower(a.period) as starts,
           e.service_id, s.minutes,
           case when e.provider_id is null then 1.0 / greatest(1, (
             select count(*) from slotoptim_private.provider as p
              where p.org_id = e.org_id and p.active and p.location_id = e.location_id
                and (e.service_id is null or exists (select 1 from slotoptim_private.provider_service as ps
                                                      where ps.provider_id = p.id and ps.service_id = e.service_id))))
                else 1.0 end as weight
      from ordered as o
      join slotoptim_private.queue_entry as e on e.id = o.entry_id
      left join slotoptim_private.appointment as a on a.id = e.appointment_id
      left join slotoptim_private.service as s on s.id = e.service_id
    union all
    select null, a.id, 'expected', null,
           coalesce((select min(o.queue_position) from ordered as o
                      join slotoptim_private.queue_entry as e on e.id = o.entry_id
                     where o.reference_time > lower(a.period) and cardinality(e.flags) = 0),
                    (select count(*) from ordered) + 1) - 0.5
             + 0.001 * row_number() over (order by lower(a.period), a.id),
           greatest(queue_forecast.at, lower(a.period)), lower(a.period),
           a.service_id, s.minutes, 1 - coalesce(a.no_show_risk, 0.1)
      from slotoptim_private.appointment as a
      join slotoptim_private.organisation as og on og.id = a.org_id
      left join slotoptim_private.service as s on s.id = a.service_id
     where a.org_id = queue_forecast.org_id and a.provider_id = queue_forecast.provider_id
       and a.status in ('booked', 'confirmed')
       and lower(a.period) >= queue_forecast.at - make_interval(mins => v_config.late_minutes)
       and (lower(a.period) at time zone og.timezone)::date = (queue_forecast.at at time zone og.timezone)::date
       and not exists (select 1 from slotoptim_private.queue_entry as q where q.appointment_id = a.id)
  loop
    select mo.m, mo.v into v_mean_one, v_var_one
      from slotoptim_private.queue_visit_minutes(v_stats, queue_forecast.provider_id, v_row.service_id,
                                                 v_row.minutes, v_config.default_service_minutes) as mo(m, v);
    v_ids := v_ids || v_row.id; v_appts := v_appts || v_row.appt; v_kinds := v_kinds || v_row.kind;
    v_pos := v_pos || v_row.pos; v_keys := v_keys || v_row.sort_key; v_ready := v_ready || v_row.ready;
    v_starts := v_starts || v_row.starts; v_weight := v_weight || v_row.weight::real;
    v_mean := v_mean || (v_mean_one * v_pace); v_varr := v_varr || v_var_one; v_done := v_done || false;
  end loop;

  -- 3. Walk the day forward.
  v_n := coalesce(array_length(v_ids, 1), 0);
  for step in 1 .. v_n loop
    v_pick := null;
    for i in 1 .. v_n loop
      if not v_done[i] and v_ready[i] <= v_free and (v_pick is null or v_keys[i] < v_keys[v_pick]) then
        v_pick := i;
      end if;
    end loop;
    if v_pick is null then
      select min(v_ready[i]) into v_next_ready from generate_series(1, v_n) as i where not v_done[i];
      v_free := v_next_ready;
      for i in 1 .. v_n loop
        if not v_done[i] and v_ready[i] <= v_free and (v_pick is null or v_keys[i] < v_keys[v_pick]) then
          v_pick := i;
        end if;
      end loop;
    end if;
    v_done[v_pick] := true;
    entry_id := v_ids[v_pick]; appointment_id := v_appts[v_pick]; kind := v_kinds[v_pick];
    queue_position := v_pos[v_pick];
    expected_minutes := round((extract(epoch from v_free - queue_forecast.at) / 60)::numeric, 1);
    low_minutes := round(greatest(0, expected_minutes - v_z * sqrt(v_var))::numeric, 1);
    high_minutes := round((expected_minutes + v_z * sqrt(v_var))::numeric, 1);
    delay_minutes := case when v_starts[v_pick] is not null
                          then round((extract(epoch from v_free - v_starts[v_pick]) / 60)::numeric, 1) end;
    return next;
    -- A visit that may not happen (a no-show risk, a pool entry others may take) counts in part.
    v_free := v_free + make_interval(secs => v_weight[v_pick] * v_mean[v_pick] * 60);
    v_var := v_var + v_weight[v_pick] * v_varr[v_pick]
           + v_weight[v_pick] * (1 - v_weight[v_pick]) * v_mean[v_pick] * v_mean[v_pick];
  end loop;
end;
$$;

comment on function slotoptim.queue_forecast(bigint, bigint, timestamptz) is
  'When each person in a provider''s queue will be called: expected minutes from at with an 80 % interval, for those waiting and the booked customers still expected (with their predicted delay).';

-- Typical length (the learned median) and variance (minutes) of one visit: learned for the
-- provider and service, else for the service, else its booked minutes (or the default) with a
-- 30 % spread.
create or replace function slotoptim_private.queue_visit_minutes(p_stats jsonb, p_provider_id bigint, p_service_id bigint,
                                                                p_booked_minutes integer, p_default_minutes integer)
returns table (mean_minutes real, var_minutes real)
language sql
immutable
set search_path = ''
as $$
  with learned as (
    select coalesce(p_stats -> (p_provider_id || ':' || p_service_id), p_stats -> (':' || p_service_id)) as s
  )
  select coalesce((l.s ->> 'p50')::real, coalesce(p_booked_minutes, p_default_minutes)::real),
         coalesce((l.s ->> 'var')::real, pow(0.3 * coalesce(p_booked_minutes, p_default_minutes), 2)::real)
    from learned as l;
$$;

comment on function slotoptim_private.queue_visit_minutes(jsonb, bigint, bigint, integer, integer) is
  'Median and variance of one visit''s minutes: learned (provider, then service), else booked minutes with a 30 % spread.';

-- The estimate given at check-in, kept on the entry so production estimates can be scored later.
create or replace function slotoptim_private.queue_note_first_estimate(p_entry_id bigint, p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_entry slotoptim_private.queue_entry;
  v_minutes real;
begin
  select e.* into v_entry from slotoptim_private.queue_entry as e where e.id = p_entry_id;
  if v_entry.provider_id is null then
    select min(f.expected_minutes) into v_minutes
      from slotoptim_private.provider as p
      cross join lateral slotoptim.queue_forecast(v_entry.org_id, p.id, p_at) as f
     where p.org_id = v_entry.org_id and p.active and slotoptim_private.queue_serves(p.id, v_entry)
       and f.entry_id = p_entry_id;
  else
    select f.expected_minutes into v_minutes
      from slotoptim.queue_forecast(v_entry.org_id, v_entry.provider_id, p_at) as f
     where f.entry_id = p_entry_id;
  end if;
  update slotoptim_private.queue_entry as e set first_estimate_minutes = v_minutes where e.id = p_entry_id;
end;
$$;

comment on function slotoptim_private.queue_note_first_estimate(bigint, timestamptz) is
  'Stores the wait estimate given at check-in on the entry.';
