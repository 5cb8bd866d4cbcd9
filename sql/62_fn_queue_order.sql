-- Who is called next: the order of a provider's queue, computed from the rows, the clock and the
-- organisation's weights (seed 001's QueueConfiguration), never stored.

-- An organisation's queue configuration; the column defaults of slotoptim_private.queue_settings
-- when it has no row (keep the two in step).
create or replace function slotoptim_private.queue_config(p_org_id bigint)
returns table (
  priority_weight numeric,
  wait_time_weight numeric,
  appointment_time_weight numeric,
  early_minutes integer,
  late_minutes integer,
  allow_walk_ins boolean,
  overflow_threshold integer,
  default_service_minutes integer,
  use_historical_data boolean,
  heads_up_minutes integer,
  heads_up_enabled boolean
)
language sql
stable
set search_path = ''
as $$
  select coalesce(s.priority_weight, 0.5), coalesce(s.wait_time_weight, 0.3), coalesce(s.appointment_time_weight, 0.2),
         coalesce(s.early_minutes, 15), coalesce(s.late_minutes, 10), coalesce(s.allow_walk_ins, true),
         coalesce(s.overflow_threshold, 10), coalesce(s.default_service_minutes, 20),
         coalesce(s.use_historical_data, true), coalesce(s.heads_up_minutes, 20), coalesce(s.heads_up_enabled, false)
    from (values (p_org_id)) as o (id)
    left join slotoptim_private.queue_settings as s on s.org_id = o.id;
$$;

comment on function slotoptim_private.queue_config(bigint) is
  'The queue configuration of an organisation, its defaults when it has none.';

-- Can provider p_provider_id serve entry e? Their own entries, and pool entries of their location
-- for a service they offer (or for no particular service).
create or replace function slotoptim_private.queue_serves(p_provider_id bigint, p_entry slotoptim_private.queue_entry)
returns boolean
language sql
stable
set search_path = ''
as $$
  select p_entry.provider_id = p_provider_id
      or (p_entry.provider_id is null
          and p_entry.location_id = (select p.location_id from slotoptim_private.provider as p where p.id = p_provider_id)
          and (p_entry.service_id is null
               or exists (select 1 from slotoptim_private.provider_service as ps
                           where ps.provider_id = p_provider_id and ps.service_id = p_entry.service_id)));
$$;

comment on function slotoptim_private.queue_serves(bigint, slotoptim_private.queue_entry) is
  'True when the provider calls from the entry''s queue: their own, or their location''s pool for a service they offer.';

-- The waiting entries provider_id would call, best first, with why:
--   score = priority_weight x flag points (0-100)
--         + wait_time_weight x minutes waited (capped at 120)
--         + appointment_time_weight x how due the appointment is (0 when 100+ minutes away, 100 from its start)
-- A late arrival (more than late_minutes after the start) and a walk-in have no appointment part;
-- an early one gains it as the start approaches, so arriving early does not jump the queue.
-- Ties go to the earlier reference time (the appointment's start, or the arrival when late or walk-in).
create or replace function slotoptim.queue_order(org_id bigint, provider_id bigint, at timestamptz default now())
returns table (
  entry_id bigint,
  queue_position integer,
  score numeric,
  punctuality text,
  reference_time timestamptz
)
language sql
stable
set search_path = ''
as $$
  with config as (
    select * from slotoptim_private.queue_config(queue_order.org_id)
  ), waiting as (
    select e.id, e.arrived_at, e.flags, a.lower_start as starts,
           case when a.lower_start is null then 'walk_in'
                when e.arrived_at < a.lower_start - make_interval(mins => c.early_minutes) then 'early'
                when e.arrived_at > a.lower_start + make_interval(mins => c.late_minutes) then 'late'
                else 'on_time' end as punctuality
      from slotoptim_private.queue_entry as e
      cross join config as c
      left join lateral (select lower(ap.period) as lower_start from slotoptim_private.appointment as ap
                          where ap.id = e.appointment_id) as a on true
     where e.org_id = queue_order.org_id
       and e.status = 'waiting'
       and e.arrived_at <= queue_order.at
       and slotoptim_private.queue_serves(queue_order.provider_id, e)
  ), scored as (
    select w.id, w.punctuality,
           case when w.punctuality in ('walk_in', 'late') then w.arrived_at else w.starts end as reference_time,
           c.priority_weight * least(100, coalesce((select sum(f.points) from slotoptim_private.queue_flag as f
                                                     where f.org_id = queue_order.org_id and f.key = any (w.flags)), 0))
         + c.wait_time_weight * least(120, extract(epoch from queue_order.at - w.arrived_at) / 60)::numeric
         + c.appointment_time_weight
           * case when w.punctuality in ('walk_in', 'late') then 0
                  else 100 - least(100, greatest(0, extract(epoch from w.starts - queue_order.at) / 60))::numeric
             end as score,
           w.arrived_at
      from waiting as w
      cross join config as c
  )
  select s.id,
         (row_number() over (order by s.score desc, s.reference_time, s.arrived_at, s.id))::integer,
         round(s.score, 2),
         s.punctuality,
         s.reference_time
    from scored as s
   order by 2;
$$;

comment on function slotoptim.queue_order(bigint, bigint, timestamptz) is
  'The waiting entries a provider would call, best first: position, score (priority, minutes waited, appointment due), punctuality and reference time.';
