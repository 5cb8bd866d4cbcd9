-- A statement that changes many rows is captured once (a statement-level trigger with transition
-- tables), yet writes one audit row per changed row, each organisation's in its own chain; the
-- transaction's rows are chained at commit in the order they were changed, and nothing is left
-- waiting once they are.
begin;
select plan(7);
select tests.make_practice('acme');
select tests.make_practice('beta');
select tests.book('2026-11-24 09:00-05', 'long', 'c1');
select tests.book('2026-11-24 11:00-05', 'short', 'c1');
select tests.book('2026-11-24 13:00-05', 'short', 'c1');
select tests.book('2026-11-24 09:00-05', 'long', 'c1', 'beta');
set constraints all immediate;  -- audit rows are chained at commit; here, at each statement

select is(
  (select count(*)::int from pg_catalog.pg_trigger as t
    where t.tgrelid = 'slotoptim_private.appointment'::regclass and t.tgname like '%audit%'
      and (t.tgtype & 1) = 1),
  0, 'no audit trigger fires per row any more');

create temp table seen as select coalesce(max(id), 0) as last_id from slotoptim_private.audit_event;
-- One statement, four appointments of two organisations.
update slotoptim_private.appointment set status = 'confirmed';
select is(
  (select array_agg(o.key || ':' || e.entity || ':' || e.action order by e.id)
     from slotoptim_private.audit_event as e join slotoptim_private.organisation as o on o.id = e.org_id
    where e.id > (select last_id from seen)),
  array['acme:appointment:update', 'acme:appointment:update', 'acme:appointment:update', 'beta:appointment:update'],
  'one row per changed row, each in its organisation');
select is(
  (select count(distinct e.entity_id)::int from slotoptim_private.audit_event as e where e.id > (select last_id from seen)),
  4, 'one for each appointment');

update seen set last_id = (select max(id) from slotoptim_private.audit_event);
update slotoptim_private.appointment set no_show_risk = 0.2;
select is((select count(*)::int from slotoptim_private.audit_event where id > (select last_id from seen)), 0,
  'a many-row statement that changes no audited column writes nothing');

-- Two statements in order: their rows follow each other in the chain.
update slotoptim_private.appointment set status = 'booked' where org_id = (select id from slotoptim_private.organisation where key = 'acme');
update slotoptim_private.organisation_settings set score_threshold = 40
 where org_id = (select id from slotoptim_private.organisation where key = 'acme');
select is(
  (select array_agg(e.entity order by e.seq) from slotoptim_private.audit_event as e where e.id > (select last_id from seen)),
  array['appointment', 'appointment', 'appointment', 'organisation_settings'],
  'the chain keeps the order of the changes');

select is((select count(*)::int from slotoptim_private.audit_pending), 0, 'nothing is left waiting for a seal');
select is((select count(*)::int from slotoptim.verify_audit_chain('acme')) + (select count(*)::int from slotoptim.verify_audit_chain('beta')),
  0, 'both chains verify');

select * from finish();
rollback;
