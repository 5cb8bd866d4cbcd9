-- Public gap analysis.
-- A gap is a maximal free interval of a provider, clipped to the window; it is "bookable" when at
-- least one service the provider offers fits (minutes + buffer after <= its length), else "fragment".

create or replace function slotoptim_private.gaps_of(p_provider_ids bigint[], p_during tstzrange)
returns table (provider_id bigint, during tstzrange, kind text, fits text[])
language sql
stable
set search_path = ''
-- A generic plan: see sql/43_fn_working_time.sql.
set plan_cache_mode = force_generic_plan
as $$
  -- A gap's fitting services depend only on its length: per provider, the lengths at which the
  -- set changes (0 and each need) give steps [from, to) with their keys, joined to the gaps by
  -- provider and length. Set-based: a subquery per gap cost more than the rest of gaps_of
  -- (matched against every provider's needs instead, 835 gaps x 800 needs cost 25 ms; issue 18).
  with needs as materialized (
    select n.provider_id, n.service_key, pg_catalog.make_interval(mins => n.need_minutes) as length
      from slotoptim_private.service_needs(p_provider_ids) as n
  ),
  thresholds as (
    select n.provider_id, n.length from needs as n
    union
    select distinct n.provider_id, interval '0' from needs as n
  ),
  steps as (
    select t.provider_id,
           t.length as from_length,
           pg_catalog.lead(t.length) over (partition by t.provider_id order by t.length) as to_length,
           coalesce(array_agg(n.service_key order by n.service_key) filter (where n.service_key is not null),
                    '{}') as keys
      from thresholds as t
      left join needs as n on n.provider_id = t.provider_id and n.length <= t.length
     group by t.provider_id, t.length
  )
  select f.provider_id,
         g.during,
         case when cardinality(s.keys) > 0 then 'bookable' else 'fragment' end,
         coalesce(s.keys, '{}')
    from slotoptim_private.free_time(p_provider_ids, p_during) as f
    cross join lateral unnest(f.free) as g(during)
    left join steps as s
      on s.provider_id = f.provider_id
     and s.from_length <= upper(g.during) - lower(g.during)
     and (s.to_length is null or upper(g.during) - lower(g.during) < s.to_length)
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

-- Issue 18 added starts_at and ends_at (lower and upper of during) to both forms of slotoptim.gaps:
-- clients took the range apart again, and a range costs a client more to read than two instants.
-- A new result type needs drop and create (create or replace refuses it); the old forms are dropped
-- only while installed, so a re-run keeps the functions. Grants and comments come back with this
-- file and sql/90_grants.sql. A view of one's own over them blocks the drop (no cascade): drop it
-- first and create it again after the upgrade.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure
      from pg_catalog.pg_proc as p
     where p.oid in (pg_catalog.to_regprocedure('slotoptim.gaps(text, tstzrange, text)'),
                     pg_catalog.to_regprocedure('slotoptim.gaps(tstzrange)'))
       and not ('starts_at' = any (p.proargnames))
  loop
    execute pg_catalog.format('drop function %s', v_function);
  end loop;
end;
$$;

-- With a customer, a service fits when its minutes plus that customer's buffer fit (a rule on new
-- customers may add minutes): the same buffer the booking will get, so a gap said to fit a
-- service takes a booking of it. Without one, the buffer of an unknown customer.
drop function if exists slotoptim.gaps(text, tstzrange);
create or replace function slotoptim.gaps(provider_key text, during tstzrange, customer_key text default null)
returns table (provider_key text, during tstzrange, kind text, fits text[], starts_at timestamptz, ends_at timestamptz)
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  with target as materialized (
    select p.id, p.key, slotoptim_private.resolve_customer(p.org_id, gaps.customer_key) as customer_id
      from slotoptim_private.provider as p
     where p.id = slotoptim_private.resolve_provider(gaps.provider_key)
  )
  -- Two branches, one of which runs (the plan gates each on customer_key): without a customer the
  -- gaps as gaps_of matched them, with no per-gap work.
  select t.key, g.during, g.kind, g.fits, lower(g.during), upper(g.during)
    from target as t
    cross join slotoptim_private.gaps_of(array[t.id], gaps.during) as g
   where gaps.customer_key is null
  union all
  select t.key,
         g.during,
         case when cardinality(fit.keys) > 0 then 'bookable' else 'fragment' end,
         fit.keys,
         lower(g.during),
         upper(g.during)
    from target as t
    cross join slotoptim_private.gaps_of(array[t.id], gaps.during) as g
    cross join lateral (
      select coalesce(array_agg(s.key order by s.key), '{}') as keys
        from slotoptim_private.provider_service as ps
        join slotoptim_private.service as s on s.id = ps.service_id
       where ps.provider_id = t.id
         and s.active
         and (s.minutes + slotoptim_private.buffer_after(s.id, t.id, t.customer_id, lower(g.during))) * 60
             <= extract(epoch from upper(g.during) - lower(g.during))
    ) as fit
   where gaps.customer_key is not null
   order by 5;
$$;

comment on function slotoptim.gaps(text, tstzrange, text) is
  'Maximal free intervals of one provider in a window (hours minus closures minus appointments with buffers), with '
  'the services that fit; with a customer key, a service fits when it does with that customer''s buffer. '
  'starts_at and ends_at are the bounds of during.';

-- Every active provider of the current organisation (or of all organisations when none is set).
create or replace function slotoptim.gaps(during tstzrange)
returns table (provider_key text, during tstzrange, kind text, fits text[], starts_at timestamptz, ends_at timestamptz)
language sql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
  -- The organisation once per call, not once per provider row.
  with scope as materialized (
    select slotoptim_private.current_org() as org_id
  )
  select p.key, g.during, g.kind, g.fits, lower(g.during), upper(g.during)
    from slotoptim_private.gaps_of(
           array(select p2.id
                   from slotoptim_private.provider as p2, scope
                  where p2.active
                    and (scope.org_id is null or p2.org_id = scope.org_id)),
           gaps.during) as g
    join slotoptim_private.provider as p on p.id = g.provider_id
   order by p.key, lower(g.during);
$$;

comment on function slotoptim.gaps(tstzrange) is
  'Gaps of every active provider of the current organisation in a window; starts_at and ends_at are the bounds of during.';
