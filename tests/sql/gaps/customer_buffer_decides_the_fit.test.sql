begin;
select plan(5);
select tests.make_practice();
select tests.book('2026-11-24 10:00-05');          -- blocks 10:00-10:20
select tests.book('2026-11-24 10:45-05');          -- a 25-minute gap 10:20-10:45 before it
insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)
select id, 'new customers', true, 15 from slotoptim_private.organisation;

select is(
  (select fits from slotoptim.gaps('dr-a', tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05'))
    where lower(during) = '2026-11-24 10:20-05'),
  array['short'], 'for an unknown customer short fits (15 + 5 <= 25)');

select is(
  (select row(kind, fits)::text
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05'), 'c1')
    where lower(during) = '2026-11-24 10:20-05'),
  row('fragment', '{}'::text[])::text, 'for new customer c1 it does not (15 + 5 + 15 > 25)');

select throws_ok(
  $$select tests.book('2026-11-24 10:20-05', 'short', 'c1')$$,
  '23P01', null, 'and the booking is refused, as the gap said');

select lives_ok(
  $$select tests.book('2026-11-24 10:20-05', 'short')$$,
  'a booking without a customer (default buffer) fits, as the gap said');

select throws_ok(
  $$select * from slotoptim.gaps('dr-a', tstzrange('2026-11-24 10:00-05', '2026-11-24 11:00-05'), 'nobody')$$,
  'P0002', 'unknown customer ''nobody''', 'an unknown customer is a clear error');

select * from finish();
rollback;
