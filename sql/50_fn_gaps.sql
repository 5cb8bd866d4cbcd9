-- Public gap analysis.
-- A gap is a maximal free interval of a provider, clipped to the window; it is "bookable" when at
-- least one service the provider offers fits (minutes + buffer after <= its length), else "fragment".

create or replace function slotoptim_private.gaps_of(p_provider_ids bigint[], p_during tstzrange)
returns table (provider_id bigint, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
as $$
  -- Each provider's needs as one row (joined by provider), so a gap looks at its own provider's few
  -- services: matched against every provider's needs, 835 gaps x 800 needs cost 25 ms (issue 18).
  with needs as materialized (
    select n.provider_id,
           array_agg(n.service_key order by n.service_key) as keys,
           array_agg(n.need_minutes order by n.service_key) as minutes
      from slotoptim_private.service_needs(p_provider_ids) as n
     group by n.provider_id
  )
  select f.provider_id,
         g.during,
         case when cardinality(fit.keys) > 0 then 'bookable' else 'fragment' end,
         fit.keys
    from slotoptim_private.free_time(p_provider_ids, p_during) as f
    left join needs as n on n.provider_id = f.provider_id
    cross join lateral unnest(f.free) as g(during)
    cross join lateral (
      select coalesce(array_agg(u.key order by u.key), '{}') as keys
        from unnest(n.keys, n.minutes) as u(key, minutes)
       where u.minutes * 60 <= extract(epoch from upper(g.during) - lower(g.during))
    ) as fit
   order by f.provider_id, lower(g.during);
$$;

-- A customer key of the organisation (null for none), or an error naming it.
create or replace function slotoptim_private.resolve_customer(p_org_id bigint, p_key text)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_key is null then
    return null;
  end if;
  select c.id into v_id from slotoptim_private.customer as c where c.org_id = p_org_id and c.key = p_key;
  if v_id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown customer %s', pg_catalog.quote_literal(p_key));
  end if;
  return v_id;
end;
$$;

-- With a customer, a service fits when its minutes plus that customer's buffer fit (a rule on new
-- customers may add minutes): the same buffer the booking will get, so a gap said to fit a
-- service takes a booking of it. Without one, the buffer of an unknown customer.
drop function if exists slotoptim.gaps(text, tstzrange);
create or replace function slotoptim.gaps(provider_key text, during tstzrange, customer_key text default null)
returns table (provider_key text, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
as $$
  with target as (
    select p.id, p.org_id, p.key
      from slotoptim_private.provider as p
     where p.id = slotoptim_private.resolve_provider(gaps.provider_key)
  ),
  customer as (
    select slotoptim_private.resolve_customer(t.org_id, gaps.customer_key) as id
      from target as t
     where gaps.customer_key is not null
  )
  select t.key,
         g.during,
         case when c.id is null then g.kind when cardinality(fit.keys) > 0 then 'bookable' else 'fragment' end,
         case when c.id is null then g.fits else fit.keys end
    from target as t
    cross join slotoptim_private.gaps_of(array[t.id], gaps.during) as g
    left join customer as c on true
    left join lateral (
      select coalesce(array_agg(s.key order by s.key), '{}') as keys
        from slotoptim_private.provider_service as ps
        join slotoptim_private.service as s on s.id = ps.service_id
       where c.id is not null
         and ps.provider_id = t.id
         and s.active
         and (s.minutes + slotoptim_private.buffer_after(s.id, t.id, c.id, lower(g.during))) * 60
             <= extract(epoch from upper(g.during) - lower(g.during))
    ) as fit on true
   order by lower(g.during);
$$;

comment on function slotoptim.gaps(text, tstzrange, text) is
  'Maximal free intervals of one provider in a window (hours minus closures minus appointments with buffers), with '
  'the services that fit; with a customer key, a service fits when it does with that customer''s buffer.';

-- Every active provider of the current organisation (or of all organisations when none is set).
create or replace function slotoptim.gaps(during tstzrange)
returns table (provider_key text, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
as $$
  select p.key, g.during, g.kind, g.fits
    from slotoptim_private.gaps_of(
           array(select p2.id
                   from slotoptim_private.provider as p2
                  where p2.active
                    and (slotoptim_private.current_org() is null or p2.org_id = slotoptim_private.current_org())),
           gaps.during) as g
    join slotoptim_private.provider as p on p.id = g.provider_id
   order by p.key, lower(g.during);
$$;

comment on function slotoptim.gaps(tstzrange) is
  'Gaps of every active provider of the current organisation in a window.';
