-- Every table a migration adds stays distributable by organisation (Citus, docs/scaling.md): it is
-- a tenant table with org_id not null, or one of the few global tables; a tenant table with an id
-- has the key (org_id, id); every foreign key between tenant tables carries org_id; and the unique
-- keys that do not start with org_id are the reviewed ones docs/scaling.md lists for the move.
begin;
select plan(5);

create temporary view tables_here as
select c.oid, c.relname,
       exists (select 1 from pg_catalog.pg_attribute a
                where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped) as has_org,
       exists (select 1 from pg_catalog.pg_attribute a
                where a.attrelid = c.oid and a.attname = 'id' and not a.attisdropped) as has_id
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'slotoptim_private' and c.relkind in ('r', 'p');

select set_eq(
  $$ select relname::text from tables_here where not has_org $$,
  $$ values ('organisation'), ('instance_secret'), ('schema_source'), ('alembic_version') $$,
  'the tables without org_id are the global ones (organisations, instance secrets, schema bookkeeping)'
);

-- webhook_event records a provider's delivery before it is routed (org_id null when no
-- organisation matches): it stays with the router, not in a shard.
select is_empty(
  $$ select t.relname::text from tables_here t
      join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attname = 'org_id'
     where t.has_org and not a.attnotnull and t.relname <> 'webhook_event' $$,
  'org_id is not null in every tenant table'
);

select is_empty(
  $$ select t.relname::text from tables_here t
      where t.has_org and t.has_id
        and not exists (
          select 1 from pg_catalog.pg_constraint k
           where k.conrelid = t.oid and k.contype in ('p', 'u')
             and (select array_agg(a.attname::text order by u.ord)
                    from unnest(k.conkey) with ordinality as u(attnum, ord)
                    join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = u.attnum)
                 = array['org_id', 'id']) $$,
  'every tenant table with an id has the key (org_id, id)'
);

select is_empty(
  $$ select t.relname || '.' || k.conname from tables_here t
      join pg_catalog.pg_constraint k on k.conrelid = t.oid and k.contype = 'f'
      join tables_here r on r.oid = k.confrelid
     where t.has_org and r.has_org
       and not exists (select 1 from pg_catalog.pg_attribute a
                        where a.attrelid = t.oid and a.attnum = any (k.conkey) and a.attname = 'org_id') $$,
  'every foreign key between tenant tables includes org_id'
);

-- Unique keys of tenant tables that do not lead with org_id: what a distribution would change
-- (docs/scaling.md, "Past one primary"). A new one fails here until it is reviewed and listed.
select set_eq(
  $$ select t.relname || ': ' || pg_catalog.pg_get_constraintdef(k.oid)
       from tables_here t
       join pg_catalog.pg_constraint k on k.conrelid = t.oid and k.contype in ('p', 'u')
      where t.has_org
        and (select a.attname from pg_catalog.pg_attribute a
              where a.attrelid = t.oid and a.attnum = k.conkey[1]) <> 'org_id' $$,
  $$ values
     ('analyst_login: PRIMARY KEY (role_name)'),
     ('api_key: PRIMARY KEY (id)'), ('api_key: UNIQUE (prefix)'),
     ('appointment: PRIMARY KEY (id)'), ('audit_event: PRIMARY KEY (id)'), ('buffer_rule: PRIMARY KEY (id)'),
     ('closure: PRIMARY KEY (id)'), ('customer: PRIMARY KEY (id)'), ('gap: PRIMARY KEY (id)'),
     ('location: PRIMARY KEY (id)'), ('message: PRIMARY KEY (id)'), ('message: UNIQUE (provider_id)'),
     ('model_version: PRIMARY KEY (id)'), ('offer: PRIMARY KEY (id)'), ('offer: UNIQUE (campaign_id, customer_id)'),
     ('offer_campaign: PRIMARY KEY (id)'), ('provider: PRIMARY KEY (id)'),
     ('provider_service: PRIMARY KEY (provider_id, service_id)'), ('service: PRIMARY KEY (id)'),
     ('slot_template: PRIMARY KEY (run_id, provider_id, weekday, hour, service_id)'),
     ('slot_template_run: PRIMARY KEY (id)'), ('waitlist_entry: PRIMARY KEY (id)'),
     ('webhook_event: PRIMARY KEY (provider_id, kind)'), ('working_hours: PRIMARY KEY (id)'),
     -- The check-in queue, calendar and EHR sync tables (each also has (org_id, id)):
     ('queue_entry: PRIMARY KEY (id)'), ('ehr_link: PRIMARY KEY (id)'),
     ('ehr_link: UNIQUE (connection_id, resource_type, external_id)'),
     ('external_connection: PRIMARY KEY (id)'), ('external_channel: PRIMARY KEY (id)'),
     ('external_channel: UNIQUE (channel_key)'), ('external_item: PRIMARY KEY (id)'),
     ('external_item: UNIQUE (connection_id, external_id)'), ('external_write: PRIMARY KEY (id)'),
     -- Move-up and reminders (issue 12; each also has (org_id, id)):
     ('moveup_move: PRIMARY KEY (id)'), ('reminder_rule: PRIMARY KEY (id)'), ('reminder: PRIMARY KEY (id)'),
     ('staff_task: PRIMARY KEY (id)'),
     -- Consent history and double opt-in requests (each also has (org_id, id)):
     ('consent_event: PRIMARY KEY (id)'), ('consent_request: PRIMARY KEY (id)'),
     -- Payments (each also has (org_id, id)); Stripe's event and session ids are unique across accounts:
     ('payment_policy: PRIMARY KEY (id)'), ('payment_decision: PRIMARY KEY (id)'), ('payment_card: PRIMARY KEY (id)'),
     ('payment_checkout: PRIMARY KEY (id)'), ('payment_checkout: UNIQUE (stripe_session)'),
     ('payment_charge: PRIMARY KEY (id)'), ('stripe_event: PRIMARY KEY (event_id)'),
     -- Message experiments (issue 16; each also has (org_id, id)):
     ('message_experiment: PRIMARY KEY (id)'), ('message_variant: PRIMARY KEY (id)') $$,
  'the unique keys without a leading org_id are the reviewed ones'
);

select * from finish();
rollback;
