-- The one place buffers come from: minutes to keep free after an appointment of a service.
-- = the base + every matching active buffer rule, capped at the organisation's maximum, where the
-- base is the service's default, or, when the organisation has use_learned_buffers on and the
-- learning job has estimated one, the learned buffer (the provider's own within the service if
-- there is one, else the service's). Rules still add to a learned base: they carry what the
-- overrun history cannot know (an admin's extra time for new customers, say).
-- A rule on "new customer" applies only when the customer is known: a customer is new when they
-- have no attended (arrived or completed) appointment that started before p_starts_at.
create or replace function slotoptim_private.buffer_after(
  p_service_id bigint,
  p_provider_id bigint,
  p_customer_id bigint default null,
  p_starts_at timestamptz default null
)
returns integer
language sql
stable
set search_path = ''
as $$
  with customer_state as (
    select case
             when p_customer_id is null then null
             else not exists (
               select 1
                 from slotoptim_private.appointment as a
                where a.customer_id = p_customer_id
                  and a.status in ('arrived', 'completed')
                  and lower(a.period) < coalesce(p_starts_at, 'infinity'::timestamptz)
             )
           end as is_new
  ),
  learned as (
    select b.minutes
      from slotoptim_private.service as svc
      join slotoptim_private.learning_settings as ls on ls.org_id = svc.org_id and ls.use_learned_buffers
      join slotoptim_private.learned_buffer as b on b.org_id = svc.org_id and b.service_id = svc.id
     where svc.id = p_service_id
       and (b.provider_id = p_provider_id or b.provider_id is null)
     -- The provider's own row before the service's (nulls sort last).
     order by b.provider_id nulls last
     limit 1
  )
  select greatest(0, least(
           coalesce((select l.minutes from learned as l), s.buffer_after_minutes) + coalesce(sum(r.extra_minutes), 0),
           coalesce(max(st.max_buffer_minutes), 60)
         ))::integer
    from slotoptim_private.service as s
    cross join customer_state as c
    left join slotoptim_private.organisation_settings as st on st.org_id = s.org_id
    left join slotoptim_private.buffer_rule as r
      on r.org_id = s.org_id
     and r.active
     and (r.when_new_customer is null or r.when_new_customer = c.is_new)
     and (r.when_category is null or r.when_category = s.category)
     and (r.when_min_complexity is null or s.complexity >= r.when_min_complexity)
     and (r.when_service_id is null or r.when_service_id = s.id)
     and (r.when_provider_id is null or r.when_provider_id = p_provider_id)
   where s.id = p_service_id
   group by s.id, s.buffer_after_minutes;
$$;

comment on function slotoptim_private.buffer_after(bigint, bigint, bigint, timestamptz) is
  'Buffer minutes after an appointment: service default (or learned buffer when enabled) + matching buffer rules, capped. The single source of buffers.';

-- Why a buffer is what it is: the base (the service's default, or the learned buffer), then each
-- matching active rule with its minutes, then the organisation's cap when it cut the sum. The
-- minutes add up to buffer_after() (tests/sql/buffer_after checks it). For messages, not for the
-- hot path: buffer_after stays one aggregate.
create or replace function slotoptim_private.buffer_explained(
  p_service_id bigint,
  p_provider_id bigint,
  p_customer_id bigint default null,
  p_starts_at timestamptz default null
)
returns table (part text, name text, minutes integer)
language sql
stable
set search_path = ''
as $$
  with customer_state as (
    select case
             when p_customer_id is null then null
             else not exists (
               select 1
                 from slotoptim_private.appointment as a
                where a.customer_id = p_customer_id
                  and a.status in ('arrived', 'completed')
                  and lower(a.period) < coalesce(p_starts_at, 'infinity'::timestamptz)
             )
           end as is_new
  ),
  learned as (
    select b.minutes
      from slotoptim_private.service as svc
      join slotoptim_private.learning_settings as ls on ls.org_id = svc.org_id and ls.use_learned_buffers
      join slotoptim_private.learned_buffer as b on b.org_id = svc.org_id and b.service_id = svc.id
     where svc.id = p_service_id
       and (b.provider_id = p_provider_id or b.provider_id is null)
     order by b.provider_id nulls last
     limit 1
  ),
  parts as (
    select 1 as position, 'base' as part,
           case when exists (select 1 from learned) then 'learned buffer' else 'service default' end as name,
           coalesce((select l.minutes from learned as l), s.buffer_after_minutes) as minutes
      from slotoptim_private.service as s
     where s.id = p_service_id
    union all
    select 2, 'rule', r.name, r.extra_minutes
      from slotoptim_private.service as s
      cross join customer_state as c
      join slotoptim_private.buffer_rule as r
        on r.org_id = s.org_id
       and r.active
       and (r.when_new_customer is null or r.when_new_customer = c.is_new)
       and (r.when_category is null or r.when_category = s.category)
       and (r.when_min_complexity is null or s.complexity >= r.when_min_complexity)
       and (r.when_service_id is null or r.when_service_id = s.id)
       and (r.when_provider_id is null or r.when_provider_id = p_provider_id)
     where s.id = p_service_id
  )
  select p.part, p.name, p.minutes from parts as p
  union all
  -- The cap (or the floor at 0) when it changed the sum: the difference, so the rows still add up.
  select 'cap', case when capped.total = 0 then 'no negative buffer' else 'organisation maximum' end,
         capped.total - sum(p.minutes)
    from parts as p
    cross join lateral (
      select greatest(0, least(sum(p2.minutes),
                               coalesce((select st.max_buffer_minutes
                                           from slotoptim_private.service as s
                                           join slotoptim_private.organisation_settings as st on st.org_id = s.org_id
                                          where s.id = p_service_id), 60)))::integer as total
        from parts as p2
    ) as capped
   group by capped.total
  having capped.total <> sum(p.minutes);
$$;
