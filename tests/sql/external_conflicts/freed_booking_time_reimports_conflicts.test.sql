begin;
select plan(8);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'),
  (select id from slotoptim_private.provider where key = 'dr-a'),
  'calendar', 'google', '{"calendar_id": "dr-a@example.com"}', null, null, '2026-11-20 08:00-05') as cid \gset

-- A SlotOptim booking at 10:00, then the calendar says the doctor is busy 10:00-11:00.
select tests.book('2026-11-24 10:00-05', 'short') as appt \gset
select is(
  (select conflicts from slotoptim.apply_external_items(:cid,
     '[{"id": "ev1", "etag": "1", "start": "2026-11-24T10:00:00-05:00", "end": "2026-11-24T11:00:00-05:00", "busy": true}]',
     0, '2026-11-23 08:00-05')),
  1, 'busy time over our booking is a conflict');
select is(
  (select lower(a.period) from slotoptim_private.appointment as a where a.source = 'external' and a.status = 'booked'),
  (select upper(blocked) from slotoptim_private.appointment where id = :appt),
  'only the time after the booking (and its buffer) blocks');

-- The booking is cancelled: the external event holds all of its time again.
select slotoptim.cancel_appointment(:appt, '2026-11-23 09:00-05');
select is(
  (select state from slotoptim_private.external_item where connection_id = :cid and external_id = 'ev1'),
  'busy', 'the conflict item is re-imported when the booking under it is cancelled');
select is(
  (select range_agg(a.period)::text from slotoptim_private.appointment as a
    where a.source = 'external' and a.status = 'booked'),
  (select tstzmultirange(tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05'))::text),
  'the external busy time covers the whole event');
select ok(
  not exists (select 1 from slotoptim_private.gap where status in ('open', 'offering')
               and during && tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05')),
  'and no gap is left open (nobody is offered time the calendar holds)');
select throws_ok(
  $$ select tests.book('2026-11-24 10:00-05', 'short') $$,
  '23P01', null, 'the freed time cannot be booked again over the event');

-- A booking moved away from under an event frees its old time the same way.
select tests.book('2026-11-24 14:00-05', 'short') as appt2 \gset
select slotoptim.apply_external_items(:cid,
  '[{"id": "ev2", "etag": "1", "start": "2026-11-24T14:00:00-05:00", "end": "2026-11-24T14:15:00-05:00", "busy": true}]',
  0, '2026-11-23 09:05-05');
select is((select state from slotoptim_private.external_item where connection_id = :cid and external_id = 'ev2'),
  'conflict', 'an event exactly under another booking is a conflict');
update slotoptim_private.appointment
   set period = tstzrange('2026-11-24 16:00-05', '2026-11-24 16:15-05')
 where id = :appt2;
select is((select state from slotoptim_private.external_item where connection_id = :cid and external_id = 'ev2'),
  'busy', 'and blocks once the booking moves elsewhere');

select * from finish();
rollback;
