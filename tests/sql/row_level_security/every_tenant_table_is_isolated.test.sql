-- Every tenant table (any table of slotoptim_private with an org_id, and organisation) has
-- row-level security enabled, not forced (the owner, which the service connects as, keeps seeing
-- everything), and a policy for the application role and one for analysts.
begin;
select plan(8);

select is(
  array(select c.relname::text
          from pg_class as c
          join pg_namespace as n on n.oid = c.relnamespace
         where n.nspname = 'slotoptim_private' and c.relkind = 'r'
           and (c.relname = 'organisation'
                or exists (select 1 from pg_attribute as a
                            where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped))
           and not c.relrowsecurity
         order by 1),
  '{}'::text[],
  'every table with an org_id has row-level security');

select is(
  array(select c.relname::text
          from pg_class as c
          join pg_namespace as n on n.oid = c.relnamespace
         where n.nspname in ('slotoptim', 'slotoptim_private') and c.relforcerowsecurity
         order by 1),
  '{}'::text[],
  'none is forced: the owner is not restricted');

select is(
  array(select t::text
          from slotoptim_private.tenant_tables() as t
         where (select count(*) from pg_policy as p
                 where p.polrelid = t and p.polname in ('app_tenant', 'analyst_tenant')) <> 2
         order by 1),
  '{}'::text[],
  'every tenant table has a policy for slotoptim_app and one for slotoptim_analyst');

select ok(
  (select count(*) from slotoptim_private.tenant_tables()) >= 17,
  'the tenant tables are found (appointments, offers, messages, the learning tables...)');

select ok(
  not has_table_privilege('slotoptim_app', 'slotoptim_private.instance_secret', 'select, insert, update, delete')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.instance_secret', 'select')
  and not has_table_privilege('slotoptim_app', 'slotoptim_private.schema_source', 'select, insert, update, delete')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.schema_source', 'select'),
  'neither role can touch the instance secret or the schema sources');

select ok(
  has_table_privilege('slotoptim_app', 'slotoptim_private.appointment', 'select, insert, update, delete')
  and has_table_privilege('slotoptim_analyst', 'slotoptim_private.appointment', 'select')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.appointment', 'insert')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.appointment', 'update')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.appointment', 'delete'),
  'the application role writes tenant tables; analysts only read them');

select ok(
  not has_column_privilege('slotoptim_analyst', 'slotoptim_private.message', 'body', 'select')
  and not has_column_privilege('slotoptim_analyst', 'slotoptim_private.message', 'to_address', 'select')
  and has_column_privilege('slotoptim_analyst', 'slotoptim_private.message', 'status', 'select'),
  'analysts count messages but cannot read what was written or to whom');

select ok(
  has_function_privilege('slotoptim_analyst', 'slotoptim.gaps(text, tstzrange, text)', 'execute')
  and has_function_privilege('slotoptim_analyst', 'slotoptim.candidates(bigint, timestamptz)', 'execute')
  and has_function_privilege('slotoptim_analyst', 'slotoptim.alternatives(bigint, timestamptz)', 'execute')
  and not has_function_privilege('slotoptim_analyst', 'slotoptim.cancel_appointment(bigint, timestamptz)', 'execute')
  and not has_function_privilege('slotoptim_analyst', 'slotoptim.tick(timestamptz)', 'execute')
  and has_function_privilege('slotoptim_app', 'slotoptim.claim_offer(bigint, bigint, timestamptz)', 'execute')
  and not has_function_privilege('slotoptim_app', 'slotoptim.create_analyst_login(text, text, text)', 'execute')
  and not has_function_privilege('public', 'slotoptim.create_analyst_login(text, text, text)', 'execute'),
  'analysts run the read-only functions; analyst logins are the owner''s to create');

select * from finish();
rollback;
