-- Analyst views of the practice set-up. security_invoker: the reader's own rights (and, once
-- row-level security is on, their organisation) apply, not the view owner's.

create or replace view slotoptim.providers with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       p.name,
       p.timezone,
       l.key as location_key,
       p.active,
       array(select s.key
               from slotoptim_private.provider_service as ps
               join slotoptim_private.service as s on s.id = ps.service_id
              where ps.provider_id = p.id
              order by s.key) as service_keys
  from slotoptim_private.provider as p
  join slotoptim_private.organisation as o on o.id = p.org_id
  left join slotoptim_private.location as l on l.id = p.location_id;

create or replace view slotoptim.services with (security_invoker = true) as
select o.key as org_key,
       s.key as service_key,
       s.name,
       s.minutes,
       s.price,
       o.currency,
       s.buffer_after_minutes as default_buffer_minutes,
       s.category,
       s.complexity,
       s.active
  from slotoptim_private.service as s
  join slotoptim_private.organisation as o on o.id = s.org_id;

create or replace view slotoptim.working_hours with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       wh.weekday,
       wh.starts_at,
       wh.ends_at,
       p.timezone
  from slotoptim_private.working_hours as wh
  join slotoptim_private.provider as p on p.id = wh.provider_id
  join slotoptim_private.organisation as o on o.id = p.org_id;

create or replace view slotoptim.buffer_rules with (security_invoker = true) as
select o.key as org_key,
       r.name,
       r.when_new_customer,
       r.when_category,
       r.when_min_complexity,
       s.key as when_service_key,
       p.key as when_provider_key,
       r.extra_minutes,
       r.active
  from slotoptim_private.buffer_rule as r
  join slotoptim_private.organisation as o on o.id = r.org_id
  left join slotoptim_private.service as s on s.id = r.when_service_id
  left join slotoptim_private.provider as p on p.id = r.when_provider_id;
