-- Resolves a provider key to its id. Keys are unique per organisation, so a key is looked up in the
-- current organisation when one is set; "org/provider" names the organisation explicitly.
create or replace function slotoptim_private.resolve_provider(p_key text)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  v_org_key text;
  v_provider_key text := p_key;
  v_ids bigint[];
begin
  if p_key is null or p_key = '' then
    raise exception using errcode = 'invalid_parameter_value', message = 'provider key is required';
  end if;
  if position('/' in p_key) > 0 then
    v_org_key := split_part(p_key, '/', 1);
    v_provider_key := substr(p_key, position('/' in p_key) + 1);
  end if;

  select array_agg(p.id order by p.id)
    into v_ids
    from slotoptim_private.provider as p
    join slotoptim_private.organisation as o on o.id = p.org_id
   where p.key = v_provider_key
     and (v_org_key is null or o.key = v_org_key)
     and (slotoptim_private.current_org() is null or p.org_id = slotoptim_private.current_org());

  if v_ids is null then
    raise exception using
      errcode = 'no_data_found',
      message = format('unknown provider %s', pg_catalog.quote_literal(p_key));
  elsif cardinality(v_ids) > 1 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('provider key %s exists in several organisations', pg_catalog.quote_literal(p_key)),
      hint = 'Name it as ''organisation/provider'' or set slotoptim.org_id.';
  end if;
  return v_ids[1];
end;
$$;
