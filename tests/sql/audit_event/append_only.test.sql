-- The audit trail is append-only: the trigger refuses even the owner, privileges everyone else.
begin;
select plan(6);
set constraints all immediate;  -- audit rows are written at commit; here, at each statement
select tests.make_practice('acme');
select tests.book('2026-11-24 09:00-05', 'long');

select ok((select count(*) from slotoptim_private.audit_event) > 0, 'changes were audited');
select throws_ok($$ update slotoptim_private.audit_event set actor_id = 'someone else' $$,
  '42501', 'the audit trail is append-only: update is refused', 'an update is refused, even to the owner');
select throws_ok($$ delete from slotoptim_private.audit_event $$,
  '42501', 'the audit trail is append-only: delete is refused', 'a delete is refused');
select throws_ok($$ truncate slotoptim_private.audit_event $$,
  '42501', 'the audit trail is append-only: truncate is refused', 'a truncate is refused');
select ok(
  not has_table_privilege('slotoptim_app', 'slotoptim_private.audit_event', 'insert')
  and not has_table_privilege('slotoptim_app', 'slotoptim_private.audit_event', 'update')
  and not has_table_privilege('slotoptim_app', 'slotoptim_private.audit_event', 'delete')
  and not has_table_privilege('slotoptim_app', 'slotoptim_private.audit_event', 'truncate')
  and not has_table_privilege('slotoptim_analyst', 'slotoptim_private.audit_event', 'insert, update, delete, truncate')
  and not has_table_privilege('slotoptim_app', 'slotoptim_private.audit_chain', 'insert, update, delete, truncate'),
  'no role but the owner may write the audit tables (the triggers write as the owner)');
select is((select count(*)::int from slotoptim.verify_audit_chain('acme')), 0, 'the chain verifies');

select * from finish();
rollback;
