begin;
select plan(4);
select tests.make_practice();
-- Saturday 09:30-11:00 besides Monday-Friday 09:00-17:00.
insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)
select org_id, id, 6, '09:30', '11:00' from slotoptim_private.provider;
-- One appointment: 15 minutes plus a 5-minute buffer, so the provider's mean blocked time is 20 minutes.
select tests.book('2026-11-20 10:00-05', 'short');

insert into slotoptim_private.demand_forecast (org_id, provider_id, service_id, day, hour, expected, method, generated_at, model_version)
select p.org_id, p.id, null, d.day, 9, d.expected, 'prophet', '2026-11-22 00:00-05', 'v1'
  from slotoptim_private.provider p, (values (date '2026-11-23', 2.0), (date '2026-11-30', 1.0)) as d(day, expected);

select is((select (demand_per_hour, demand_minutes, capacity_minutes, ratio, forecast_days)::text
             from slotoptim.demand_heatmap where weekday = 1 and hour = 9),
  '(1.500,30.0,60.0,0.500,2)', 'Monday 09:00: mean forecast 1.5 x 20 minutes over 60 working minutes');
select is((select capacity_minutes from slotoptim.demand_heatmap where weekday = 6 and hour = 9), 30.0,
  'Saturday 09:00-10:00 holds 30 working minutes');
select is((select (demand_per_hour, capacity_minutes)::text from slotoptim.demand_heatmap where weekday = 2 and hour = 16),
  '(,60.0)', 'working hours without a forecast show their capacity');
select is((select count(*)::int from slotoptim.demand_heatmap where weekday = 7), 0, 'no hours, no forecast: no rows');

select * from finish();
rollback;
