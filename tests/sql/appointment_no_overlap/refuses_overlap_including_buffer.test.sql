begin;
select plan(4);
select tests.make_practice();

-- Tuesday 2026-11-24 10:00-10:15 local, buffer 5: blocks until 10:20.
select lives_ok($$ select tests.book('2026-11-24 10:00-05') $$, 'first booking is accepted');
select throws_ok($$ select tests.book('2026-11-24 10:10-05') $$, '23P01', null, 'an overlapping booking is refused');
select throws_ok($$ select tests.book('2026-11-24 10:15-05') $$, '23P01', null, 'a booking inside the buffer is refused');
select lives_ok($$ select tests.book('2026-11-24 10:20-05') $$, 'a booking right after the buffer is accepted');

select * from finish();
rollback;
