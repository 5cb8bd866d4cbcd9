-- Overbooking advice from the no-show risks (appointment.no_show_risk, written by `slotoptim ml score`).
--
-- For each provider and local day from `at` on, over its upcoming booked/confirmed appointments
-- (risk r, length m minutes; appointments not scored yet count as sure to come and are left out of
-- the day's sums):
--   expected no-shows     = sum r
--   expected attendance   = sum (1 - r)
--   expected idle minutes = sum r * m
-- Candidate: add one booking alongside appointment X (risk p, length m) - same time, same service.
-- The added patient shows with probability q = 1 - (the day's mean risk), the best guess for a new
-- booking of that day. Then, in minutes:
--   idle saved  = p * q * m
--       X misses and the added patient comes: the slot is used instead of idle;
--   waiting     = (1 - p) * q * (m + sum_j max(0, m - C_j))
--       both come: one waits m, and each later appointment j of the day starts late by what the
--       slack before it has not absorbed, C_j = (start_j - end_X) - sum over appointments i between
--       X and j of (1 - r_i) * m_i (free time, buffers and expected no-shows all absorb delay);
--   overtime    = (1 - p) * q * max(0, m - C_end)
--       what is not absorbed by the end of the provider's working day, C_end defined like C_j with
--       the end of that day's working time in place of start_j.
--   net         = idle saved - waiting_cost_ratio * waiting - overtime_cost_ratio * overtime
-- (costs in idle-provider-minute equivalents; ratios per organisation in learning_settings).
-- It is a first-order model: expected slack stands in for the distribution of slack, and a lunch
-- break counts as slack. The best candidate of the day is the one with the largest net; a booking
-- is suggested only when net > 0, the day's expected no-shows exceed the organisation's
-- overbooking_safety (the PRD's aggregate-risk safety threshold), and no free gap of that day
-- (from `at` on) still fits the candidate's service: while one does, the advice is to book that gap,
-- not to overbook. Every row carries these numbers.
create or replace function slotoptim.overbooking_advice(at timestamptz default now())
returns table (
  org_key text,
  provider_key text,
  day date,
  appointments integer,
  scored integer,
  expected_no_shows numeric,
  expected_attendance numeric,
  expected_idle_minutes numeric,
  safety_threshold numeric,
  slot_appointment_id bigint,
  slot_appointment_key text,
  slot_starts_local timestamp,
  slot_service_key text,
  slot_minutes integer,
  slot_risk numeric,
  added_show_probability numeric,
  expected_idle_saved numeric,
  expected_waiting_minutes numeric,
  expected_overtime_minutes numeric,
  waiting_cost numeric,
  overtime_cost numeric,
  net_benefit numeric,
  free_gap_local timestamp,
  free_gap_minutes integer,
  suggested boolean,
  suggestion text
)
language sql
stable
set search_path = ''
as $$
  -- Materialized: each step is small, and inlined they would be re-run for every row of the next.
  with upcoming as materialized (
    select a.id,
           a.org_id,
           a.provider_id,
           a.key,
           a.service_id,
           a.period,
           a.no_show_risk::numeric as risk,
           (lower(a.period) at time zone p.timezone)::date as day,
           extract(epoch from upper(a.period) - lower(a.period)) / 60 as minutes
      from slotoptim_private.appointment as a
      join slotoptim_private.provider as p on p.id = a.provider_id
     where a.status in ('booked', 'confirmed')
       and lower(a.period) >= overbooking_advice.at
       and (slotoptim_private.current_org() is null or a.org_id = slotoptim_private.current_org())
  ),
  days as materialized (
    select u.org_id,
           u.provider_id,
           u.day,
           count(*)::integer as appointments,
           count(u.risk)::integer as scored,
           coalesce(sum(u.risk), 0) as no_shows,
           coalesce(sum(1 - u.risk), 0) as attendance,
           coalesce(sum(u.risk * u.minutes), 0) as idle,
           avg(u.risk) as mean_risk,
           max(upper(u.period)) as last_end
      from upcoming as u
     group by u.org_id, u.provider_id, u.day
  ),
  day_end as materialized (
    select d.provider_id,
           d.day,
           coalesce(upper(w.working), d.last_end) as work_end
      from days as d
      join slotoptim_private.provider as p on p.id = d.provider_id
      left join lateral slotoptim_private.working_time(
             array[d.provider_id],
             pg_catalog.tstzrange(d.day::timestamp at time zone p.timezone,
                                  (d.day + 1)::timestamp at time zone p.timezone)) as w on true
  ),
  later as materialized (
    -- Each candidate X with every later appointment j of its provider's day, and the expected busy
    -- minutes between X's end and j's start.
    select x.id as x_id,
           extract(epoch from lower(j.period) - upper(x.period)) / 60
             - coalesce(sum((1 - coalesce(j.risk, 0)) * j.minutes)
                          over (partition by x.id order by lower(j.period), j.id
                                rows between unbounded preceding and 1 preceding), 0) as slack_before,
           (1 - coalesce(j.risk, 0)) * j.minutes as busy
      from upcoming as x
      join upcoming as j
        on j.provider_id = x.provider_id
       and j.day = x.day
       and lower(j.period) >= upper(x.period)
     where x.risk is not null
  ),
  candidates as materialized (
    select x.id,
           x.provider_id,
           x.day,
           x.risk as p,
           x.minutes as m,
           1 - d.mean_risk as q,
           coalesce(l.delays, 0) as delays,
           greatest(0, x.minutes - (extract(epoch from e.work_end - upper(x.period)) / 60
                                    - coalesce(l.busy_after, 0))) as unabsorbed
      from upcoming as x
      join days as d on d.provider_id = x.provider_id and d.day = x.day
      join day_end as e on e.provider_id = x.provider_id and e.day = x.day
      left join lateral (
        select sum(greatest(0, x.minutes - lt.slack_before)) as delays,
               sum(lt.busy) as busy_after
          from later as lt
         where lt.x_id = x.id
      ) as l on true
     where x.risk is not null
  ),
  costed as materialized (
    select c.*,
           c.p * c.q * c.m as saved,
           (1 - c.p) * c.q * (c.m + c.delays) as waiting,
           (1 - c.p) * c.q * c.unabsorbed as overtime,
           ls.waiting_cost_ratio::numeric * (1 - c.p) * c.q * (c.m + c.delays) as waiting_cost,
           ls.overtime_cost_ratio::numeric * (1 - c.p) * c.q * c.unabsorbed as overtime_cost
      from candidates as c
      join slotoptim_private.provider as p on p.id = c.provider_id
      join slotoptim_private.learning_settings as ls on ls.org_id = p.org_id
  ),
  best as materialized (
    select distinct on (c.provider_id, c.day)
           c.*,
           c.saved - c.waiting_cost - c.overtime_cost as net
      from costed as c
      join slotoptim_private.appointment as a on a.id = c.id
     order by c.provider_id, c.day, c.saved - c.waiting_cost - c.overtime_cost desc, c.p desc, lower(a.period), c.id
  )
  select o.key,
         p.key,
         d.day,
         d.appointments,
         d.scored,
         round(d.no_shows, 2),
         round(d.attendance, 2),
         round(d.idle, 1),
         round(ls.overbooking_safety::numeric, 2),
         b.id,
         a.key,
         lower(a.period) at time zone p.timezone,
         s.key,
         b.m::integer,
         round(b.p, 3),
         round(b.q, 3),
         round(b.saved, 2),
         round(b.waiting, 2),
         round(b.overtime, 2),
         round(b.waiting_cost, 2),
         round(b.overtime_cost, 2),
         round(b.net, 2),
         free.starts at time zone p.timezone,
         free.minutes,
         coalesce(b.net > 0 and d.no_shows > ls.overbooking_safety and free.starts is null, false),
         case
           when b.id is null then 'no scored appointments: run slotoptim ml score'
           when free.starts is not null then
             pg_catalog.format('no overbooking: the free gap at %s (%s min) still fits %s: book it first',
                               pg_catalog.to_char(free.starts at time zone p.timezone, 'HH24:MI'), free.minutes, s.key)
           when b.net > 0 and d.no_shows > ls.overbooking_safety then
             pg_catalog.format('double-book alongside appointment %s at %s (%s, %s min, risk %s): saves %s idle min,'
                               ' costs %s (waiting) + %s (overtime)',
                               coalesce(a.key, a.id::text),
                               pg_catalog.to_char(lower(a.period) at time zone p.timezone, 'HH24:MI'),
                               s.key, b.m::integer, round(b.p, 2), round(b.saved, 1),
                               round(b.waiting_cost, 1), round(b.overtime_cost, 1))
           when d.no_shows <= ls.overbooking_safety then
             pg_catalog.format('no overbooking: expected no-shows %s not above the safety threshold %s',
                               round(d.no_shows, 2), round(ls.overbooking_safety::numeric, 2))
           else
             pg_catalog.format('no overbooking: best slot saves %s idle min but costs %s (waiting) + %s (overtime)',
                               round(b.saved, 1), round(b.waiting_cost, 1), round(b.overtime_cost, 1))
         end
    from days as d
    join slotoptim_private.organisation as o on o.id = d.org_id
    join slotoptim_private.provider as p on p.id = d.provider_id
    join slotoptim_private.learning_settings as ls on ls.org_id = d.org_id
    left join best as b on b.provider_id = d.provider_id and b.day = d.day
    left join slotoptim_private.appointment as a on a.id = b.id
    left join slotoptim_private.service as s on s.id = a.service_id
    left join lateral (
      select lower(g.during) as starts,
             (extract(epoch from upper(g.during) - lower(g.during)) / 60)::integer as minutes
        from slotoptim_private.gaps_of(
               array[d.provider_id],
               pg_catalog.tstzrange(greatest(overbooking_advice.at, d.day::timestamp at time zone p.timezone),
                                    (d.day + 1)::timestamp at time zone p.timezone)) as g
       where g.kind = 'bookable'
         and s.key = any (g.fits)
       order by lower(g.during)
       limit 1
    ) as free on b.id is not null
   order by o.key, p.key, d.day;
$$;

comment on function slotoptim.overbooking_advice(timestamptz) is
  'Per provider and upcoming local day: expected attendance and idle minutes from no-show risks, and one double-booking suggestion when its expected idle time saved exceeds its waiting and overtime cost.';

create or replace view slotoptim.overbooking_suggestions with (security_invoker = true) as
select * from slotoptim.overbooking_advice(now());

comment on view slotoptim.overbooking_suggestions is
  'slotoptim.overbooking_advice(now()): one row per provider and upcoming day, a suggestion where it pays.';
