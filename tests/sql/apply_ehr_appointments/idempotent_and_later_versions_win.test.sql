begin;
select plan(7);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'), null, 'fhir', 'fhir',
  '{"base_url": "https://ehr.example/fhir/R4"}', null, null, '2026-11-20 08:00-05') as cid \gset
select id as dr from slotoptim_private.provider where key = 'dr-a' \gset
select id as svc from slotoptim_private.service where key = 'short' \gset

select is(
  (select imported from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
     'id', 'Appointment/a1', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
     'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:00-05')),
  1, 'a booked EHR appointment is imported');
select is((select buffer_after_minutes from slotoptim_private.appointment where source = 'external'), 0,
  'holding exactly the EHR''s time: no buffer of ours, so back-to-back EHR visits never conflict');

select is(
  (select skipped from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
     'id', 'Appointment/a1', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
     'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:01-05')),
  1, 'the same version delivered again is skipped');

select is(
  (select released from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
     'id', 'Appointment/a1', 'version', '2', 'updated', '2026-11-23T11:00:00Z', 'status', 'cancelled',
     'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:02-05')),
  1, 'a cancellation releases the time');
select ok(exists (select 1 from slotoptim_private.gap where status = 'open'
                   and during @> tstzrange('2026-11-24 10:00-05', '2026-11-24 10:15-05')),
  'and opens a gap, as any cancellation does');

select is(
  (select skipped from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(jsonb_build_object(
     'id', 'Appointment/a1', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
     'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:03-05')),
  1, 'an older version arriving late is skipped');
select is((select status from slotoptim_private.appointment where source = 'external'), 'cancelled',
  'and does not bring the appointment back');

select * from finish();
rollback;
