-- What the learned buffers are estimated from: how long completed appointments really ran.
-- Overrun = actual minutes (actual_end - actual_start) - scheduled minutes (the booked period). The
-- duration, not the finishing time, because a late start is the previous appointment's overrun and
-- would be counted twice. Only appointments finished by p_at count, so a run at a past instant sees
-- what was known then. A record longer than 4 x scheduled + 60 minutes is taken as a visit left
-- open in the system, not an overrun, and skipped.
create or replace function slotoptim_private.duration_records(p_org_id bigint, p_at timestamptz)
returns table (
  appointment_id bigint,
  service_id bigint,
  provider_id bigint,
  scheduled_minutes real,
  actual_minutes real
)
language sql
stable
set search_path = ''
as $$
  select a.id,
         a.service_id,
         a.provider_id,
         (extract(epoch from upper(a.period) - lower(a.period)) / 60)::real,
         (extract(epoch from a.actual_end - a.actual_start) / 60)::real
    from slotoptim_private.appointment as a
   where a.org_id = p_org_id
     and a.status = 'completed'
     and a.actual_start is not null
     and a.actual_end is not null
     and a.actual_end <= p_at
     and a.actual_end - a.actual_start
         <= 4 * (upper(a.period) - lower(a.period)) + interval '60 minutes'
   order by a.actual_end, a.id;
$$;

comment on function slotoptim_private.duration_records(bigint, timestamptz) is
  'Scheduled and actual minutes of the completed appointments of an organisation, finished by p_at: the learned buffers'' data.';
