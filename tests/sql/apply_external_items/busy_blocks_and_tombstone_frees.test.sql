begin;
select plan(9);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'),
  (select id from slotoptim_private.provider where key = 'dr-a'),
  'calendar', 'google', '{"calendar_id": "dr-a@example.com"}', null, null, '2026-11-20 08:00-05') as cid \gset

select is(
  (select imported from slotoptim.apply_external_items(:cid,
     '[{"id": "ev1", "etag": "\"1\"", "start": "2026-11-24T10:00:00-05:00", "end": "2026-11-24T11:00:00-05:00", "busy": true},
       {"id": "ev2", "etag": "\"1\"", "start": "2026-11-24T13:00:00-05:00", "end": "2026-11-24T14:00:00-05:00", "busy": false}]',
     0, '2026-11-23 08:00-05')),
  1, 'the busy event is imported, the free one is not');
select is(
  (select period from slotoptim_private.appointment where source = 'external' and status = 'booked'),
  tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05'), 'as a blocking appointment of the provider');

select throws_ok(
  $$ select tests.book('2026-11-24 10:30-05', 'short') $$,
  '23P01', null, 'nothing can be booked over external busy time');

select is(
  (select echoes from slotoptim.apply_external_items(:cid,
     '[{"id": "ours1", "start": "2026-11-24T15:00:00-05:00", "end": "2026-11-24T15:15:00-05:00", "busy": true, "ours": 12345}]',
     0, '2026-11-23 08:00-05')),
  1, 'our own echo is recognised');
select is((select count(*)::int from slotoptim_private.appointment where source = 'external'), 1,
  'and is not imported as busy time');

-- A moved event frees its old time and holds the new one.
select slotoptim.apply_external_items(:cid,
  '[{"id": "ev1", "etag": "\"2\"", "start": "2026-11-24T10:00:00-05:00", "end": "2026-11-24T10:30:00-05:00", "busy": true}]',
  0, '2026-11-23 08:05-05');
select is(
  (select period from slotoptim_private.appointment where source = 'external' and status = 'booked'),
  tstzrange('2026-11-24 10:00-05', '2026-11-24 10:30-05'), 'a moved event moves its appointment');

-- A deleted event arrives as a bare tombstone: the mirror knows which time it held.
select is(
  (select released from slotoptim.apply_external_items(:cid, '[{"id": "ev1", "busy": false}]', 0, '2026-11-23 08:10-05')),
  1, 'a tombstone releases the time');
select is((select status from slotoptim_private.appointment where source = 'external'), 'cancelled',
  'the appointment is cancelled like any cancellation');
select ok(
  exists (select 1 from slotoptim_private.gap
           where status = 'open' and during @> tstzrange('2026-11-24 10:00-05', '2026-11-24 10:30-05')),
  'and a gap opens over the freed time');

select * from finish();
rollback;
