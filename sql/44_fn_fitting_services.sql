-- What each active service a provider offers needs from a gap: its minutes plus the buffer after
-- it for an unknown customer. Computed once per provider set, then matched against many gaps.
create or replace function slotoptim_private.service_needs(p_provider_ids bigint[])
returns table (provider_id bigint, service_key text, need_minutes integer)
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  -- slotoptim_private.buffer_after(service, provider) for an unknown customer, set-based: one
  -- call per (provider, service) cost ~20 us each, 16 ms at 800 pairs (issue 18). Same parts: the
  -- learned base (the provider's own before the service's) when enabled, else the service's
  -- default; plus the active rules that do not depend on the customer; capped; never negative.
  -- tests/py/test_service_needs.py checks it against buffer_after.
  select ps.provider_id, s.key,
         s.minutes + greatest(0, least(coalesce(own.minutes, shared.minutes, s.buffer_after_minutes)
                                       + coalesce(rules.extra, 0),
                                       coalesce(st.max_buffer_minutes, 60)))::integer
    from slotoptim_private.provider_service as ps
    join slotoptim_private.service as s on s.id = ps.service_id
    left join slotoptim_private.organisation_settings as st on st.org_id = s.org_id
    -- The learned base as joins (at most one row each, learned_buffer_one_row), not a subquery
    -- per (provider, service): 6.2 -> 2.8 ms server CPU for 4,000 pairs (issue 18).
    left join slotoptim_private.learning_settings as ls on ls.org_id = s.org_id and ls.use_learned_buffers
    left join slotoptim_private.learned_buffer as own
      on ls.use_learned_buffers and own.org_id = s.org_id and own.service_id = s.id
     and own.provider_id = ps.provider_id
    left join slotoptim_private.learned_buffer as shared
      on ls.use_learned_buffers and shared.org_id = s.org_id and shared.service_id = s.id
     and shared.provider_id is null
    left join lateral (
      select sum(r.extra_minutes) as extra
        from slotoptim_private.buffer_rule as r
       where r.org_id = s.org_id
         and r.active
         and r.when_new_customer is null
         and (r.when_category is null or r.when_category = s.category)
         and (r.when_min_complexity is null or s.complexity >= r.when_min_complexity)
         and (r.when_service_id is null or r.when_service_id = s.id)
         and (r.when_provider_id is null or r.when_provider_id = ps.provider_id)
    ) as rules on true
   where ps.provider_id = any (p_provider_ids)
     and s.active;
$$;

-- Keys of the services that fit in a stretch of time (need <= its length), sorted by key.
create or replace function slotoptim_private.fitting_services(p_provider_id bigint, p_during tstzrange)
returns text[]
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  select coalesce(array_agg(n.service_key order by n.service_key), '{}')
    from slotoptim_private.service_needs(array[p_provider_id]) as n
   where n.need_minutes * 60 <= extract(epoch from upper(p_during) - lower(p_during));
$$;
