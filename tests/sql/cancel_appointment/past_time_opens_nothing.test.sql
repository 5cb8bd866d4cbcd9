begin;
select plan(2);
select tests.make_practice();
select tests.book('2026-11-24 09:00-05', 'long');

select is(
  (select count(*)::int from slotoptim.cancel_appointment(
     (select id from slotoptim_private.appointment), '2026-11-25 08:00-05')),
  0, 'cancelling after the slot has passed opens no gap');
select is((select status from slotoptim_private.appointment), 'cancelled', 'the appointment is cancelled');

select * from finish();
rollback;
