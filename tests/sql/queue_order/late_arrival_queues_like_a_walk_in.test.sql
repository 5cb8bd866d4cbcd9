begin;
select plan(3);
select tests.make_practice();
select tests.book('2026-11-24 09:00-05', 'short');
select tests.book('2026-11-24 09:30-05', 'short');

-- 09:00 arrives at 09:25 (late), 09:30 arrives at 09:20 (on time): the punctual one goes first.
select slotoptim.queue_check_in((select id from slotoptim_private.organisation),
  (select id from slotoptim_private.appointment where lower(period) = '2026-11-24 09:00-05'), 'staff', '{}', '2026-11-24 09:25-05');
select slotoptim.queue_check_in((select id from slotoptim_private.organisation),
  (select id from slotoptim_private.appointment where lower(period) = '2026-11-24 09:30-05'), 'staff', '{}', '2026-11-24 09:20-05');

select results_eq(
  $$select o.punctuality from slotoptim.queue_order((select id from slotoptim_private.organisation),
      (select id from slotoptim_private.provider), '2026-11-24 09:26-05') as o order by o.queue_position$$,
  array['on_time', 'late'],
  'the on-time customer is called before the one who came 25 minutes late');
select is(
  (select count(*)::int from slotoptim_private.appointment where status = 'arrived'), 2,
  'both appointments are marked arrived');
select is(
  (select array_agg(ticket order by ticket) from slotoptim_private.queue_entry), array['A001', 'A002'],
  'tickets number the day''s check-ins');

select * from finish();
rollback;
