-- What each active service a provider offers needs from a gap: its minutes plus the buffer after
-- it for an unknown customer. Computed once per provider set, then matched against many gaps.
create or replace function slotoptim_private.service_needs(p_provider_ids bigint[])
returns table (provider_id bigint, service_key text, need_minutes integer)
language sql
stable
set search_path = ''
as $$
  select ps.provider_id, s.key, s.minutes + slotoptim_private.buffer_after(s.id, ps.provider_id)
    from slotoptim_private.provider_service as ps
    join slotoptim_private.service as s on s.id = ps.service_id
   where ps.provider_id = any (p_provider_ids)
     and s.active;
$$;

-- Keys of the services that fit in a stretch of time (need <= its length), sorted by key.
create or replace function slotoptim_private.fitting_services(p_provider_id bigint, p_during tstzrange)
returns text[]
language sql
stable
set search_path = ''
as $$
  select coalesce(array_agg(n.service_key order by n.service_key), '{}')
    from slotoptim_private.service_needs(array[p_provider_id]) as n
   where n.need_minutes * 60 <= extract(epoch from upper(p_during) - lower(p_during));
$$;
