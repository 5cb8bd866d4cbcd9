begin;
select plan(5);
select tests.make_practice();

select tests.book('2026-11-23 09:00-05', 'short', 'c1');
select tests.book('2026-11-23 10:00-05', 'short');
select tests.book('2026-11-20 10:00-05', 'short');
select tests.book('2026-11-23 11:00-05', 'short');
update slotoptim_private.appointment set no_show_risk = 0.5 where lower(period) = '2026-11-23 09:00-05';
update slotoptim_private.appointment set no_show_risk = 0.1 where lower(period) = '2026-11-23 10:00-05';
update slotoptim_private.appointment set no_show_risk = 0.9 where lower(period) = '2026-11-20 10:00-05';
update slotoptim_private.appointment set no_show_risk = 0.8, status = 'cancelled'
 where lower(period) = '2026-11-23 11:00-05';

select is((select array_agg(local_time order by local_time) from slotoptim.high_risk_appointments('2026-11-23 08:00-05')),
  array['09:00'], 'only upcoming booked appointments at or above the default threshold 0.3');
select is((select (customer_key, no_show_risk, threshold, day)::text from slotoptim.high_risk_appointments('2026-11-23 08:00-05')),
  '(c1,0.5,0.3,2026-11-23)', 'with who, how risky, against what threshold, which local day');

update slotoptim_private.learning_settings set high_risk_threshold = 0.05;
select is((select count(*)::int from slotoptim.high_risk_appointments('2026-11-23 08:00-05')), 2,
  'the threshold is the organisation''s');
select tests.book('2099-01-05 09:00-05', 'short');
update slotoptim_private.appointment set no_show_risk = 0.9 where lower(period) = '2099-01-05 09:00-05';
select is(array(select appointment_id from slotoptim.high_risk_slots),
  array(select appointment_id from slotoptim.high_risk_appointments(now())), 'the view is the function as of now()');
select ok((select bool_or(day = '2099-01-05') from slotoptim.high_risk_slots), 'and lists what is upcoming');

select * from finish();
rollback;
