-- An analyst login is confined to the organisation it was made for, whatever it sets itself.
begin;
select plan(8);
select tests.make_practice('acme');
select tests.make_practice('beta');
select tests.book('2026-11-24 09:00-05', 'long', null, 'acme');
select tests.book('2026-11-24 09:00-05', 'long', null, 'beta');
select id as acme_id from slotoptim_private.organisation where key = 'acme' \gset
select id as beta_id from slotoptim_private.organisation where key = 'beta' \gset
-- Roles belong to the cluster: a random name, and the rollback below removes it.
select 'an_' || substr(md5(random()::text), 1, 12) as login \gset
select slotoptim.create_analyst_login('acme', :'login', 'correct horse battery staple') as created \gset

set session authorization :"login";
select slotoptim_private.current_org() as plain_org \gset
select string_agg(distinct org_key, ',') as appointment_orgs from slotoptim.appointments \gset
select set_config('slotoptim.org_id', :'beta_id', true);
select slotoptim_private.current_org() as forged_org \gset
select count(*) as forged_rows from slotoptim_private.appointment where org_id = :beta_id \gset
select count(*) as forged_view_rows from slotoptim.appointments where org_key = 'beta' \gset
select count(*) as own_rows_still from slotoptim.appointments \gset
reset session authorization;

select is(:'created'::text, :'login'::text, 'the login is created');
select ok(pg_has_role(:'login', 'slotoptim_analyst', 'member'), 'it is a member of slotoptim_analyst');
select is(:'plain_org'::bigint, :'acme_id'::bigint, 'current_org() is the login''s organisation');
select is(:'appointment_orgs'::text, 'acme'::text, 'the views show its organisation only');
select is(:'forged_rows'::int + :'forged_view_rows'::int, 0,
  'naming another organisation in slotoptim.org_id shows nothing of it');
select is(:'own_rows_still'::int, 1, 'and the views still show its own organisation''s rows, no other');
select throws_ok(
  format('select slotoptim.create_analyst_login(%L, %L, %L)', 'beta', :'login', 'another long password'),
  '42710', null, 'login names are unique in the cluster');
select lives_ok(format('select slotoptim.drop_analyst_login(%L)', :'login'), 'the login can be dropped');

select * from finish();
rollback;
