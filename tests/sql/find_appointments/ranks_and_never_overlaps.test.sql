begin;
select plan(4);
select tests.make_practice();
select tests.book('2026-11-24 10:00-05', 'short');

create temporary table found as
  select * from slotoptim.find_appointments('short', tstzrange('2026-11-24 09:00-05', '2026-11-24 17:00-05'),
                                            'dr-a', null, 100, 15, '2026-11-23 08:00-05');

select ok(not exists (select 1 from found where blocked && tstzrange('2026-11-24 10:00-05', '2026-11-24 10:20-05')),
  'no potential appointment overlaps the booked visit and its buffer');
select ok(exists (select 1 from found where lower(slot) = '2026-11-24 09:40-05'),
  'the start that ends its buffer exactly at the booked visit is proposed');
select ok(
  (select score from found where lower(slot) = '2026-11-24 09:40-05')
  > (select score from found where lower(slot) = '2026-11-24 09:30-05'),
  'and ranks above one that leaves a 10-minute fragment before the visit');
select is(
  (select count(*)::int from slotoptim.find_appointments('short', tstzrange('2026-11-24 09:00-05', '2026-11-24 17:00-05'),
                                                         'dr-a', null, 100, 15, '2026-11-25 08:00-05')),
  0, 'nothing is proposed in the past');

select * from finish();
rollback;
