begin;
select plan(5);
select tests.make_practice();
select tests.book('2026-11-24 09:00-05', 'long');   -- blocks 09:00-10:10
select tests.book('2026-11-24 10:10-05', 'long');   -- blocks 10:10-11:20
select tests.book('2026-11-24 11:30-05', 'long');   -- blocks 11:30-12:40, leaving 11:20-11:30 free

select is(
  (select count(*)::int from slotoptim.cancel_appointment(
     (select id from slotoptim_private.appointment where lower(period) = '2026-11-24 10:10-05'),
     '2026-11-23 08:00-05')),
  1, 'one gap opens');
select is(
  (select during from slotoptim_private.gap where status = 'open'),
  tstzrange('2026-11-24 10:10-05', '2026-11-24 11:30-05'),
  'the freed time is merged with the adjacent free sliver');
select is((select kind from slotoptim_private.gap where status = 'open'), 'bookable', 'the merged gap is bookable');
select is((select opened_at from slotoptim_private.gap where status = 'open'), '2026-11-23 08:00-05'::timestamptz,
  'the gap opens at the time the caller gave');

select throws_ok(
  $$ select slotoptim.cancel_appointment((select id from slotoptim_private.appointment where status = 'cancelled')) $$,
  '23514', null, 'a cancelled appointment cannot be cancelled again');

select * from finish();
rollback;
