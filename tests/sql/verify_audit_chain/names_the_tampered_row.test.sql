-- A superuser tampers with the audit trail (triggers disabled); verification names the row.
begin;
select plan(9);
set constraints all immediate;  -- audit rows are written at commit; here, at each statement
select tests.make_practice('acme');
select tests.make_practice('beta');
select tests.book('2026-11-24 09:00-05', 'long', 'c1');
select tests.book('2026-11-24 11:00-05', 'short', 'c1');
select tests.book('2026-11-24 09:00-05', 'long', 'c1', 'beta');
update slotoptim_private.organisation_settings set score_threshold = 50;
update slotoptim_private.customer set consent_email = true, email = 'c1@example.com';

select id as acme from slotoptim_private.organisation where key = 'acme' \gset
select is((select count(*)::int from slotoptim.verify_audit_chain('acme')), 0, 'an untouched chain verifies');
select is(
  (select array_agg(seq order by seq) from slotoptim_private.audit_event where org_id = :acme),
  (select array_agg(g::bigint) from generate_series(1, (select count(*) from slotoptim_private.audit_event
                                                          where org_id = :acme)) as g),
  'seq counts the organisation''s rows from 1 without a hole');

alter table slotoptim_private.audit_event disable trigger audit_event_append_only;
select e.id as victim from slotoptim_private.audit_event as e
 where e.org_id = :acme and e.entity = 'appointment' order by e.seq limit 1 \gset

select e.seq as victim_seq from slotoptim_private.audit_event as e where e.id = :victim \gset
select e.id as next_row from slotoptim_private.audit_event as e where e.org_id = :acme and e.seq = :victim_seq + 1 \gset
select e.seq as last_seq from slotoptim_private.audit_event as e where e.org_id = :acme order by e.seq desc limit 1 \gset
-- Each tampering happens in a savepoint and is undone; what verification said is kept in a psql
-- variable and checked afterwards (pgTAP's own records would be rolled back with the savepoint).

savepoint tamper;
update slotoptim_private.audit_event set new_values = new_values || '{"status": "cancelled"}' where id = :victim;
select id as changed_id, reason as changed_reason from slotoptim.verify_audit_chain('acme') \gset
select count(*) as beta_broken from slotoptim.verify_audit_chain('beta') \gset
rollback to tamper;

savepoint tamper;
update slotoptim_private.audit_event set new_values = new_values || '{"status": "cancelled"}' where id = :victim;
update slotoptim_private.audit_event set hash = slotoptim_private.audit_hash(audit_event) where id = :victim;
select id as rehashed_id, reason as rehashed_reason from slotoptim.verify_audit_chain('acme') \gset
rollback to tamper;

savepoint tamper;
delete from slotoptim_private.audit_event where id = :victim;
select id as deleted_id, reason as deleted_reason from slotoptim.verify_audit_chain('acme') \gset
rollback to tamper;

savepoint tamper;
delete from slotoptim_private.audit_event where org_id = :acme and seq = :last_seq;
select reason as tail_reason from slotoptim.verify_audit_chain('acme') \gset
rollback to tamper;

savepoint tamper;
set local session_replication_role = replica;  -- the other way to silence triggers
update slotoptim_private.audit_event set actor_id = 'nobody' where id = :victim;
select id as actor_id from slotoptim.verify_audit_chain('acme') \gset
rollback to tamper;

select is(array[:'changed_id', :'changed_reason'], array[:'victim', 'hash does not match the row''s contents'],
  'a changed value is found, and the row named');
select is(:'beta_broken'::int, 0, 'other organisations'' chains are unaffected');
select is(array[:'rehashed_id', :'rehashed_reason'], array[:'next_row', 'prev_hash is not the hash of the previous row'],
  'a row rehashed after the change breaks the link to the next row, which is named');
select is(array[:'deleted_id', :'deleted_reason'],
  array[:'next_row', format('rows %s to %s of the chain are missing before this one', :victim_seq, :victim_seq)],
  'a deleted row is found: the next one is named');
select matches(:'tail_reason'::text, '^the chain head \(seq \d+\) does not match the last row',
  'a deleted last row is found through the chain head');
select is(:'actor_id'::bigint, :'victim'::bigint, 'a changed actor is found too');
select is((select count(*)::int from slotoptim.verify_audit_chain('acme')), 0, 'the undone tampering leaves a chain that verifies');

select * from finish();
rollback;
