begin;
select plan(2);
select tests.make_practice();
select set_config('slotoptim.clock', '2026-11-23 08:00-05', true);
select tests.book('2026-11-24 09:00-05', 'long');

select lives_ok($$ delete from slotoptim_private.appointment $$, 'a booked future appointment can be deleted');
select is((select count(*)::int from slotoptim_private.gap where status = 'open' and source_appointment_id is null), 1,
  'its time opens as a gap without a source row');

select * from finish();
rollback;
