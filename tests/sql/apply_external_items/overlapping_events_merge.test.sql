begin;
select plan(6);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'),
  (select id from slotoptim_private.provider where key = 'dr-a'),
  'calendar', 'caldav', '{}', null, null, '2026-11-20 08:00-05') as cid \gset

-- A double-booked calendar: two overlapping events.
select slotoptim.apply_external_items(:cid,
  '[{"id": "a", "start": "2026-11-24T10:00:00-05:00", "end": "2026-11-24T11:00:00-05:00", "busy": true},
    {"id": "b", "start": "2026-11-24T10:30:00-05:00", "end": "2026-11-24T11:30:00-05:00", "busy": true}]',
  0, '2026-11-23 08:00-05');
select is(
  (select array_agg(period) from slotoptim_private.appointment where source = 'external' and status = 'booked'),
  array[tstzrange('2026-11-24 10:00-05', '2026-11-24 11:30-05')], 'overlapping events hold their union');

select is(
  (select released from slotoptim.apply_external_items(:cid, '[{"id": "a", "busy": false}]', 0, '2026-11-23 08:05-05')),
  1, 'removing one frees only what the other does not cover');
select is(
  (select array_agg(period) from slotoptim_private.appointment where source = 'external' and status = 'booked'),
  array[tstzrange('2026-11-24 10:30-05', '2026-11-24 11:30-05')], 'the other event still blocks');
select is(
  (select during from slotoptim_private.gap where status = 'open' and during && tstzrange('2026-11-24 10:00-05', '2026-11-24 10:30-05')),
  tstzrange('2026-11-24 09:00-05', '2026-11-24 10:30-05'), 'the freed half hour opens a gap (merged with the free morning)');

-- A SlotOptim booking in the way: the event's other time blocks, the overlap is a conflict.
select tests.book('2026-11-24 14:00-05', 'short');  -- 14:00-14:15 plus 5 minutes of buffer
select is(
  (select conflicts from slotoptim.apply_external_items(:cid,
     '[{"id": "c", "start": "2026-11-24T13:30:00-05:00", "end": "2026-11-24T15:00:00-05:00", "busy": true}]',
     0, '2026-11-23 08:10-05')),
  1, 'busy time over a SlotOptim booking is a conflict');
select is(
  (select array_agg(period order by lower(period)) from slotoptim_private.appointment
    where source = 'external' and status = 'booked' and period && tstzrange('2026-11-24 13:00-05', '2026-11-24 16:00-05')),
  array[tstzrange('2026-11-24 13:30-05', '2026-11-24 14:00-05'), tstzrange('2026-11-24 14:20-05', '2026-11-24 15:00-05')],
  'and the rest of the event still blocks around the booking');

select * from finish();
rollback;
