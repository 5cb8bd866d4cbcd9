begin;
select plan(9);
select tests.make_practice();

-- Casey's record: attended 2 Nov, missed 9 Nov. Appointment X (20 Nov) was booked on 12 Nov at 09:00.
select tests.book('2026-11-02 10:00-05', 'short', 'c1');
select tests.book('2026-11-09 10:00-05', 'short', 'c1');
select tests.book('2026-11-20 10:00-05', 'short', 'c1');
update slotoptim_private.appointment set booked_at = lower(period) - interval '7 days';
update slotoptim_private.appointment set status = 'completed' where lower(period) = '2026-11-02 10:00-05';
update slotoptim_private.appointment set status = 'no_show' where lower(period) = '2026-11-09 10:00-05';
update slotoptim_private.appointment set booked_at = '2026-11-12 09:00-05', sms_reminder = true
 where lower(period) = '2026-11-20 10:00-05';

create temp view x as
select f.* from slotoptim_private.noshow_features(null, '2026-12-01 00:00-05') as f
  join slotoptim_private.appointment as a on a.id = f.appointment_id
 where lower(a.period) = '2026-11-20 10:00-05';
-- Every feature, not the status or the label (those are the appointment's own outcome).
create temp view x_features as
select (lead_days, same_day, weekday, start_hour, booked_weekday, booked_hour, age, age_band, prior_visits,
        prior_no_shows, prior_cancellations, prior_no_show_rate, days_since_last_visit, last_visit_no_show,
        new_customer, sms_reminder, service_minutes)::text as features
  from x;
create temp table before as select features from x_features;

select is((select (prior_visits, prior_no_shows, prior_no_show_rate)::text from x), '(1,1,0.5)',
  'one visit and one miss before the booking');
select is((select (lead_days, same_day, weekday, start_hour, booked_hour)::text from x), '(8,f,5,10,9)',
  'lead time, weekday and local hours of the booking and the appointment');
select is((select (days_since_last_visit, last_visit_no_show, new_customer)::text from x), '(3,t,f)',
  'the last visit (9 Nov) was a miss three days before the booking');
select is((select no_show from x), null::boolean, 'no label while X is still marked booked');

-- What happens after the booking, or starts after it, must not move X's features:
-- a miss between the booking and X, a miss booked before X's booking but starting after it,
-- a cancellation made after the booking, and X's own outcome.
select tests.book('2026-11-16 10:00-05', 'short', 'c1');
select tests.book('2026-11-13 10:00-05', 'long', 'c1');
select tests.book('2026-11-17 10:00-05', 'short', 'c1');
update slotoptim_private.appointment set status = 'no_show', booked_at = '2026-11-01 08:00-05'
 where lower(period) in ('2026-11-16 10:00-05', '2026-11-13 10:00-05');
update slotoptim_private.appointment set status = 'cancelled', cancelled_at = '2026-11-12 09:30-05',
       booked_at = '2026-11-01 08:00-05'
 where lower(period) = '2026-11-17 10:00-05';
update slotoptim_private.appointment set status = 'no_show' where lower(period) = '2026-11-20 10:00-05';
select is((select features from x_features), (select features from before),
  'later appointments and X''s own outcome leave its features unchanged');
select is((select no_show from x), true, 'the label is X''s own outcome');

-- One that starts exactly at the booking instant is not "strictly before" it.
select tests.book('2026-11-12 09:00-05', 'short', 'c1');
update slotoptim_private.appointment set status = 'no_show', booked_at = '2026-11-01 08:00-05'
 where lower(period) = '2026-11-12 09:00-05';
select is((select features from x_features), (select features from before),
  'an appointment starting at the booking instant is not yet history');

-- Control: what did happen before the booking does count.
select tests.book('2026-11-11 10:00-05', 'short', 'c1');
update slotoptim_private.appointment set status = 'no_show', booked_at = '2026-11-01 08:00-05'
 where lower(period) = '2026-11-11 10:00-05';
select is((select (prior_visits, prior_no_shows, days_since_last_visit)::text from x), '(1,2,1)',
  'a miss the day before the booking is in the record');
update slotoptim_private.appointment set status = 'cancelled', cancelled_at = '2026-11-10 12:00-05'
 where lower(period) = '2026-11-11 10:00-05';
select is((select (prior_no_shows, prior_cancellations)::text from x), '(1,1)',
  'a cancellation made before the booking is counted as one');

select * from finish();
rollback;
