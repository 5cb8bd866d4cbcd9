-- Every audited change writes exactly one row, with the actor the transaction named, and only
-- allow-listed values (ids, statuses, times, consent flags, settings); other changes write none.
begin;
select plan(17);
set constraints all immediate;  -- audit rows are written at commit; here, at each statement
select tests.make_practice('acme');
select set_config('slotoptim.actor', '{"kind": "user", "id": "staff-7", "address": "203.0.113.9"}', true);

create temp table seen as select coalesce(max(id), 0) as last_id from slotoptim_private.audit_event;
-- The audit rows written since the previous call, as "entity:action" in order.
create function pg_temp.new_rows() returns text[] language sql as $$
  with fresh as (
    select e.* from slotoptim_private.audit_event as e where e.id > (select last_id from seen)
  ), moved as (
    update seen set last_id = coalesce((select max(id) from fresh), last_id) returning 1
  )
  select coalesce(array_agg(entity || ':' || action order by id), '{}') from fresh, (select count(*) from moved) as m;
$$;

select tests.book('2026-11-24 09:00-05', 'long', 'c1');
select is(pg_temp.new_rows(), array['appointment:insert'], 'a booking writes one row');
update slotoptim_private.appointment set no_show_risk = 0.4;
select is(pg_temp.new_rows(), '{}'::text[], 'a risk score is not an audit event');
select slotoptim.cancel_appointment((select id from slotoptim_private.appointment), '2026-11-23 08:00-05');
select is(pg_temp.new_rows(), array['appointment:update'], 'a cancellation writes one row');
select is(
  (select array[old_values ->> 'status', new_values ->> 'status'] from slotoptim_private.audit_event
    where entity = 'appointment' and action = 'update'),
  array['booked', 'cancelled'], 'with the old and new status');
select is(
  (select array[actor_kind, actor_id, actor_address] from slotoptim_private.audit_event
    where entity = 'appointment' and action = 'update'),
  array['user', 'staff-7', '203.0.113.9'], 'and the actor from slotoptim.actor');
select is(
  (select array(select jsonb_object_keys(new_values) order by 1) from slotoptim_private.audit_event
    where entity = 'appointment' and action = 'update'),
  array['cancelled_at', 'customer_id', 'id', 'period', 'provider_id', 'service_id', 'source', 'status'],
  'only the allow-listed appointment columns are recorded');

update slotoptim_private.customer set name = 'Casey Renamed', email = 'casey@example.com';
select is(pg_temp.new_rows(), '{}'::text[], 'a new name or address is not recorded');
update slotoptim_private.customer set consent_email = true;
select is(pg_temp.new_rows(), array['customer:update'], 'a consent change writes one row');
select is(
  (select new_values from slotoptim_private.audit_event where entity = 'customer' and action = 'update'),
  jsonb_build_object('id', (select id from slotoptim_private.customer), 'consent_sms', true,
                     'consent_whatsapp', false, 'consent_email', true, 'opted_out_at', null),
  'with the consent flags only: no name, phone or email');

update slotoptim_private.organisation_settings set score_threshold = 60;
select is(pg_temp.new_rows(), array['organisation_settings:update'], 'a settings change writes one row');
select is(
  (select array[old_values ->> 'score_threshold', new_values ->> 'score_threshold']
     from slotoptim_private.audit_event where entity = 'organisation_settings' and action = 'update'),
  array['55.00', '60.00'], 'with the old and new values');

insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)
select id, 'new patients', true, 10 from slotoptim_private.organisation;
insert into slotoptim_private.cascade_wave (org_id, wave, max_candidates, min_score, response_window)
select id, 1, 2, 60, interval '10 minutes' from slotoptim_private.organisation;
select is(pg_temp.new_rows(), array['buffer_rule:insert', 'cascade_wave:insert'], 'buffer rules and waves are audited');

insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids)
select c.org_id, c.id, array[(select id from slotoptim_private.service where key = 'short')]
  from slotoptim_private.customer as c;
update slotoptim_private.waitlist_entry set offers_received = offers_received + 1;
select is(pg_temp.new_rows(), array['waitlist_entry:insert'], 'a waitlist entry is audited, an offer counter is not');
update slotoptim_private.waitlist_entry set status = 'paused';
select is(pg_temp.new_rows(), array['waitlist_entry:update'], 'a waitlist status change is audited');

delete from slotoptim_private.buffer_rule;
select is(pg_temp.new_rows(), array['buffer_rule:delete'], 'a delete writes one row with the old values');

select set_config('slotoptim.actor', 'not json', true);
select throws_ok($$ update slotoptim_private.organisation_settings set score_threshold = 61 $$,
  '22023', null, 'a malformed actor is refused rather than recorded wrongly');
select set_config('slotoptim.actor', '', true);

select is((select count(*)::int from slotoptim.verify_audit_chain('acme')), 0, 'the chain verifies');

select * from finish();
rollback;
