begin;
select plan(5);
select tests.make_practice();
select id as c1 from slotoptim_private.customer where key = 'c1' \gset

select ok(
  slotoptim.book_slot('dr-a', 'short', '2026-11-24 10:00-05', :c1, 'portal', '2026-11-23 08:00-05') is not null,
  'a free start inside working time is booked');
select is((select source from slotoptim_private.appointment), 'portal', 'as a portal booking');
select throws_ok(
  $$ select slotoptim.book_slot('dr-a', 'short', '2026-11-24 10:10-05', (select id from slotoptim_private.customer), 'portal', '2026-11-23 08:00-05') $$,
  '23P01', null, 'an overlapping start is refused by the exclusion constraint (buffers included)');
select throws_ok(
  $$ select slotoptim.book_slot('dr-a', 'long', '2026-11-24 16:30-05', (select id from slotoptim_private.customer), 'portal', '2026-11-23 08:00-05') $$,
  '23514', null, 'a slot running past the end of working time is refused');
select throws_ok(
  $$ select slotoptim.book_slot('dr-a', 'short', '2026-11-23 07:00-05', (select id from slotoptim_private.customer), 'portal', '2026-11-23 08:00-05') $$,
  '23514', null, 'a start in the past is refused');

select * from finish();
rollback;
