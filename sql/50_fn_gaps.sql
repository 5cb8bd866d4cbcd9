-- Public gap analysis.
-- A gap is a maximal free interval of a provider, clipped to the window; it is "bookable" when at
-- least one service the provider offers fits (minutes + buffer after <= its length), else "fragment".

create or replace function slotoptim_private.gaps_of(p_provider_ids bigint[], p_during tstzrange)
returns table (provider_id bigint, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
as $$
  with needs as materialized (
    select * from slotoptim_private.service_needs(p_provider_ids)
  )
  select f.provider_id,
         g.during,
         case when cardinality(fit.keys) > 0 then 'bookable' else 'fragment' end,
         fit.keys
    from slotoptim_private.free_time(p_provider_ids, p_during) as f
    cross join lateral unnest(f.free) as g(during)
    cross join lateral (
      select coalesce(array_agg(n.service_key order by n.service_key), '{}') as keys
        from needs as n
       where n.provider_id = f.provider_id
         and n.need_minutes * 60 <= extract(epoch from upper(g.during) - lower(g.during))
    ) as fit
   order by f.provider_id, lower(g.during);
$$;

create or replace function slotoptim.gaps(provider_key text, during tstzrange)
returns table (provider_key text, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
as $$
  select p.key, g.during, g.kind, g.fits
    from slotoptim_private.gaps_of(array[slotoptim_private.resolve_provider(gaps.provider_key)], gaps.during) as g
    join slotoptim_private.provider as p on p.id = g.provider_id
   order by lower(g.during);
$$;

comment on function slotoptim.gaps(text, tstzrange) is
  'Maximal free intervals of one provider in a window (hours minus closures minus appointments with buffers), with the services that fit.';

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
