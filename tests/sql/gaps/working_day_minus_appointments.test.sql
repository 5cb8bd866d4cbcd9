begin;
select plan(4);
select tests.make_practice();
select tests.book('2026-11-24 10:00-05');          -- blocks 10:00-10:20
select tests.book('2026-11-24 16:30-05');          -- blocks 16:30-16:50

select is(
  (select array_agg(during order by lower(during))
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  array[tstzrange('2026-11-24 09:00-05', '2026-11-24 10:00-05'),
        tstzrange('2026-11-24 10:20-05', '2026-11-24 16:30-05'),
        tstzrange('2026-11-24 16:50-05', '2026-11-24 17:00-05')],
  'gaps are the working day minus blocked time (appointment plus buffer)');

select is(
  (select kind from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))
    where lower(during) = '2026-11-24 16:50-05'),
  'fragment', 'a 10-minute sliver fits no service (15 + 5 minutes at least)');

select is(
  (select fits from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))
    where lower(during) = '2026-11-24 09:00-05'),
  array['short'], 'a 60-minute gap fits short (15 + 5) but not long (60 + 10)');

select is(
  (select array_agg(during order by lower(during))
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 09:30-05', '2026-11-24 09:45-05'))),
  array[tstzrange('2026-11-24 09:30-05', '2026-11-24 09:45-05')],
  'gaps are clipped to the window');

select * from finish();
rollback;
