begin;
select plan(2);
select tests.make_practice();

select tests.book('2026-11-24 10:00-05');
update slotoptim_private.appointment set status = 'cancelled';
select lives_ok($$ select tests.book('2026-11-24 10:00-05') $$, 'the time of a cancelled appointment can be booked again');
select is((select count(*)::int from slotoptim_private.appointment), 2, 'both rows exist, one cancelled');

select * from finish();
rollback;
