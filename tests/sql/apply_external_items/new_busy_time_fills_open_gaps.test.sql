begin;
select plan(5);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'),
  (select id from slotoptim_private.provider where key = 'dr-a'),
  'calendar', 'google', '{"calendar_id": "dr-a@example.com"}', null, null, '2026-11-20 08:00-05') as cid \gset

-- A staff booking cancelled: its time is an open gap.
select tests.book('2026-11-24 10:00-05', 'short') as appt \gset
select slotoptim.cancel_appointment(:appt, '2026-11-23 08:00-05');
select ok(exists (select 1 from slotoptim_private.gap where status = 'open'
                   and during @> tstzrange('2026-11-24 10:00-05', '2026-11-24 10:15-05')),
  'a cancelled booking leaves an open gap');

-- A page of events, one of them in that gap: inserted in one statement, the gaps they fill are
-- consumed once for the statement (not by the appointment trigger row by row).
select is(
  (select imported from slotoptim.apply_external_items(:cid,
     '[{"id": "ev1", "etag": "1", "start": "2026-11-24T08:00:00-05:00", "end": "2026-11-24T08:30:00-05:00", "busy": true},
       {"id": "ev2", "etag": "1", "start": "2026-11-24T10:00:00-05:00", "end": "2026-11-24T10:10:00-05:00", "busy": true},
       {"id": "ev3", "etag": "1", "start": "2026-11-25T08:00:00-05:00", "end": "2026-11-25T08:30:00-05:00", "busy": true}]',
     0, '2026-11-23 08:05-05')),
  3, 'three busy events become three blocking appointments');
select is(
  (select status from slotoptim_private.gap where during @> tstzrange('2026-11-24 10:00-05', '2026-11-24 10:10-05')
    order by id limit 1),
  'filled', 'the gap under the new busy time is filled, as a booking would fill it');
select is(
  (select count(*)::int from slotoptim_private.external_item
    where connection_id = :cid and appointment_id is not null and state = 'busy'),
  3, 'each busy item points at the appointment that holds its time');
select is(current_setting('slotoptim.gaps_by_statement', true), 'off',
  'the statement-level switch is off again after the insert');

select * from finish();
rollback;
