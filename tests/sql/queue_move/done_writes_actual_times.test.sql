begin;
select plan(3);
select tests.make_practice();
select tests.book('2026-11-24 09:00-05', 'short');

select slotoptim.queue_check_in((select id from slotoptim_private.organisation),
  (select id from slotoptim_private.appointment), 'kiosk', '{}', '2026-11-24 08:50-05');
select slotoptim.queue_call_next((select id from slotoptim_private.organisation),
  (select id from slotoptim_private.provider), 'desk 1', '2026-11-24 09:02-05');
select is(
  slotoptim.queue_move((select id from slotoptim_private.organisation), (select id from slotoptim_private.queue_entry),
                       'start', '2026-11-24 09:03-05'), 'in_service', 'start puts the customer in service');
select slotoptim.queue_move((select id from slotoptim_private.organisation), (select id from slotoptim_private.queue_entry),
                            'done', '2026-11-24 09:41-05');
select results_eq(
  $$select status, actual_start, actual_end from slotoptim_private.appointment$$,
  $$values ('completed'::text, '2026-11-24 09:03-05'::timestamptz, '2026-11-24 09:41-05'::timestamptz)$$,
  'done completes the appointment with its real start and end');
select throws_ok(
  $$select slotoptim.queue_move((select id from slotoptim_private.organisation),
      (select id from slotoptim_private.queue_entry), 'start', '2026-11-24 09:45-05')$$,
  '23514', null, 'a finished visit cannot start again');

select * from finish();
rollback;
