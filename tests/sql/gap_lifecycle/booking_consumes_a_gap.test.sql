begin;
select plan(3);
select tests.make_practice();
select tests.book('2026-11-24 09:00-05', 'long');
select slotoptim.cancel_appointment((select id from slotoptim_private.appointment), '2026-11-23 08:00-05');

-- Staff book the first 15 minutes of the reopened hour: the gap is filled and the rest reopens.
select set_config('slotoptim.clock', '2026-11-23 09:00-05', true);
select tests.book('2026-11-24 09:00-05', 'short');
select is((select count(*)::int from slotoptim_private.gap where status = 'filled'), 1, 'the original gap is filled');
select is((select during from slotoptim_private.gap where status = 'open'),
  tstzrange('2026-11-24 09:20-05', '2026-11-24 17:00-05'), 'what is left reopens, merged with the rest of the day');
select is((select source_appointment_id from slotoptim_private.gap where status = 'open'),
  (select id from slotoptim_private.appointment where status = 'cancelled'), 'it keeps the cancellation as its source');

select * from finish();
rollback;
