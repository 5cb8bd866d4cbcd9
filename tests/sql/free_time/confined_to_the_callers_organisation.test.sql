-- free_time is security definer (fast under row-level security); it answers for the caller's
-- organisation only, as row-level security would.
begin;
select plan(5);
select tests.make_practice('acme') as acme_provider \gset
select tests.make_practice('beta') as beta_provider \gset
select id as acme_id from slotoptim_private.organisation where key = 'acme' \gset
select tests.book('2026-11-24 10:00-05', 'long', null, 'beta');
select :acme_provider || ',' || :beta_provider as both \gset

select string_agg(provider_id::text, ',' order by provider_id) as owner_sees
  from slotoptim_private.free_time(('{' || :'both' || '}')::bigint[], tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05')) \gset

set local role slotoptim_app;
select count(*) as app_without_org
  from slotoptim_private.free_time(('{' || :'both' || '}')::bigint[], tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05')) \gset
select set_config('slotoptim.org_id', :'acme_id', true);
select string_agg(provider_id::text, ',') as app_sees
  from slotoptim_private.free_time(('{' || :'both' || '}')::bigint[], tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05')) \gset
select count(*) as own_gaps from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05')) \gset
reset role;

select is(:'owner_sees'::text, :'both'::text, 'the owner gets every provider it asks for');
select is(:'app_without_org'::int, 0, 'the application role with no organisation gets nothing');
select is(:'app_sees'::text, :'acme_provider'::text, 'with an organisation, only its own providers');
select is(:'own_gaps'::int, 1, 'slotoptim.gaps works for its own provider (one free day)');
select is(slotoptim_private.caller_org(), null::bigint, 'the owner''s own session is not confined');

select * from finish();
rollback;
