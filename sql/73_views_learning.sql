-- Analyst views of the learning jobs: their settings, the model versions, high-risk appointments
-- and learned buffers.

create or replace view slotoptim.learning_settings with (security_invoker = true) as
select o.key as org_key,
       ls.high_risk_threshold,
       ls.overbooking_safety,
       ls.overtime_cost_ratio,
       ls.waiting_cost_ratio,
       ls.buffer_quantile,
       ls.buffer_max_minutes,
       ls.use_learned_buffers,
       ls.min_practice_rows
  from slotoptim_private.learning_settings as ls
  join slotoptim_private.organisation as o on o.id = ls.org_id;

-- Models without their artifact: what was trained when, on what, and how well it did.
create or replace view slotoptim.model_versions with (security_invoker = true) as
select m.id,
       o.key as org_key,
       m.kind,
       m.version,
       m.trained_at,
       m.active,
       m.metadata ->> 'source' as source,
       m.metadata -> 'metrics' as metrics,
       m.metadata
  from slotoptim_private.model_version as m
  join slotoptim_private.organisation as o on o.id = m.org_id;

-- Upcoming booked or confirmed appointments whose no-show risk is at or above the organisation's
-- high_risk_threshold (current organisation, or all when none is set), soonest first.
create or replace function slotoptim.high_risk_appointments(at timestamptz default now())
returns table (
  appointment_id bigint,
  org_key text,
  appointment_key text,
  provider_key text,
  service_key text,
  customer_key text,
  starts_local timestamp,
  day date,
  local_time text,
  no_show_risk real,
  threshold real,
  sms_reminder boolean,
  status text
)
language sql
stable
set search_path = ''
as $$
  select a.id,
         o.key,
         a.key,
         p.key,
         s.key,
         c.key,
         lower(a.period) at time zone p.timezone,
         (lower(a.period) at time zone p.timezone)::date,
         pg_catalog.to_char(lower(a.period) at time zone p.timezone, 'HH24:MI'),
         a.no_show_risk,
         ls.high_risk_threshold,
         a.sms_reminder,
         a.status
    from slotoptim_private.appointment as a
    join slotoptim_private.organisation as o on o.id = a.org_id
    join slotoptim_private.learning_settings as ls on ls.org_id = a.org_id
    join slotoptim_private.provider as p on p.id = a.provider_id
    join slotoptim_private.service as s on s.id = a.service_id
    left join slotoptim_private.customer as c on c.id = a.customer_id
   where a.status in ('booked', 'confirmed')
     and lower(a.period) >= high_risk_appointments.at
     and a.no_show_risk >= ls.high_risk_threshold
     and (slotoptim_private.current_org() is null or a.org_id = slotoptim_private.current_org())
   order by lower(a.period), a.id;
$$;

comment on function slotoptim.high_risk_appointments(timestamptz) is
  'Upcoming appointments with a no-show risk at or above the organisation''s threshold, as of `at`.';

create or replace view slotoptim.high_risk_slots with (security_invoker = true) as
select * from slotoptim.high_risk_appointments(now());

comment on view slotoptim.high_risk_slots is 'slotoptim.high_risk_appointments(now()): upcoming appointments above the risk threshold.';

-- Learned buffers next to the service default they replace when the organisation turns them on.
create or replace view slotoptim.learned_buffers with (security_invoker = true) as
select o.key as org_key,
       s.key as service_key,
       p.key as provider_key,
       b.minutes,
       s.buffer_after_minutes as default_minutes,
       b.quantile,
       b.overrun_minutes,
       b.n,
       b.computed_at,
       ls.use_learned_buffers as in_use
  from slotoptim_private.learned_buffer as b
  join slotoptim_private.organisation as o on o.id = b.org_id
  join slotoptim_private.learning_settings as ls on ls.org_id = b.org_id
  join slotoptim_private.service as s on s.id = b.service_id
  left join slotoptim_private.provider as p on p.id = b.provider_id;
