begin;
select plan(3);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'), null, 'fhir', 'fhir',
  '{"base_url": "https://ehr.example/fhir/R4"}', null, null, '2026-11-20 08:00-05') as cid \gset
select id as dr from slotoptim_private.provider where key = 'dr-a' \gset
select id as svc from slotoptim_private.service where key = 'short' \gset

select slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
  'id', 'Appointment/a', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
  'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
  0, '2026-11-23 08:00-05');

-- The EHR marks it a no-show the day before it starts: our input rule would refuse that from
-- staff or the API, but the EHR is the record and the mirror follows it.
select is(
  (select updated from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
     'id', 'Appointment/a', 'version', '2', 'updated', '2026-11-23T11:00:00Z', 'status', 'no_show',
     'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 09:00-05')),
  1, 'an EHR no-show before the start is applied');
select is((select status from slotoptim_private.appointment where source = 'external'), 'no_show',
  'and mirrored as a no-show');
select tests.book('2026-11-24 11:00-05', 'short') as staff \gset
select slotoptim_private.set_clock('2026-11-23 09:00-05');
select throws_ok(
  format($$ update slotoptim_private.appointment set status = 'no_show' where id = %s $$, :staff),
  '23514', null, 'a staff booking still cannot be marked a no-show before it starts');

select * from finish();
rollback;
