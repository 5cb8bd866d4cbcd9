begin;
select plan(12);
select tests.make_practice();

-- Monday 23 Nov, dr-a works 09:00-09:40 and 16:00-16:20, fully booked: three 15-minute appointments
-- (plus 5-minute buffers) with risks 0.5, 0.1, 0.1.
delete from slotoptim_private.working_hours where weekday = 1;
insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)
select org_id, id, 1, h.starts, h.ends from slotoptim_private.provider,
       (values (time '09:00', time '09:40'), (time '16:00', time '16:20')) as h(starts, ends);
select tests.book('2026-11-23 09:00-05', 'short', 'c1');
select tests.book('2026-11-23 09:20-05', 'short');
select tests.book('2026-11-23 16:00-05', 'short');
update slotoptim_private.appointment set no_show_risk = 0.5 where lower(period) = '2026-11-23 09:00-05';
update slotoptim_private.appointment set no_show_risk = 0.1 where lower(period) <> '2026-11-23 09:00-05';

create temp view monday as
select * from slotoptim.overbooking_advice('2026-11-23 08:00-05') where day = '2026-11-23';

select is((select (appointments, scored, expected_no_shows, expected_attendance, expected_idle_minutes)::text from monday),
  '(3,3,0.70,2.30,10.5)', 'expected no-shows, attendance and idle minutes are sums over the risks');
-- The 09:00 slot: p = 0.5, q = 1 - 0.7/3, m = 15. Saved p q m = 5.75. Both come: one waits 15, the
-- 09:20 patient waits 15 - 5 (free minutes before it) = 10, the 16:00 one nothing (the closed hours
-- between count as slack): waiting (1-p) q 25.
select is((select to_char(slot_starts_local, 'HH24:MI') from monday), '09:00', 'the riskiest slot is the named one');
select is((select (slot_risk, added_show_probability, expected_idle_saved, expected_waiting_minutes,
                   expected_overtime_minutes)::text from monday),
  '(0.500,0.767,5.75,9.58,0.00)', 'idle saved, waiting and overtime of double-booking it');
select is((select (waiting_cost, overtime_cost, net_benefit)::text from monday), '(1.92,0.00,3.83)',
  'costs at the default ratios (waiting 0.2, overtime 1.5) and the net');
select is((select suggested from monday), false, 'expected no-shows 0.7 are not above the default safety threshold 1');
select matches((select suggestion from monday), 'safety threshold', 'and the row says so');

update slotoptim_private.learning_settings set overbooking_safety = 0.5;
select is((select suggested from monday), true, 'above a safety threshold of 0.5 it pays: suggested');
select matches((select suggestion from monday), '^double-book alongside appointment [0-9]+ at 09:00 \(short, 15 min',
  'the suggestion names the slot');

-- Tuesday (09:00-17:00): one appointment at 16:45, the end of the day. Both coming means 15 minutes of
-- overtime.
select tests.book('2026-11-24 16:45-05', 'short');
update slotoptim_private.appointment set no_show_risk = 0.6 where lower(period) = '2026-11-24 16:45-05';
select is((select (expected_idle_saved, expected_overtime_minutes, overtime_cost, net_benefit, suggested)::text
             from slotoptim.overbooking_advice('2026-11-23 08:00-05') where day = '2026-11-24'),
  '(3.60,2.40,3.60,-0.48,f)', 'at the end of the day the overtime cost outweighs the idle time saved');

select is((select count(*)::int from slotoptim.overbooking_advice('2026-11-24 00:00-05')), 1,
  'days before the instant are not upcoming');

-- With Monday's usual hours back, 09:40-16:00 is free: book that before overbooking.
delete from slotoptim_private.working_hours where weekday = 1;
insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)
select org_id, id, 1, '09:00', '17:00' from slotoptim_private.provider;
select is((select (suggested, free_gap_local, free_gap_minutes)::text from monday), '(f,"2026-11-23 09:40:00",380)',
  'a free gap that fits the service comes first');
select matches((select suggestion from monday), 'free gap at 09:40 \(380 min\) still fits short: book it first',
  'and the row names it');

select * from finish();
rollback;
