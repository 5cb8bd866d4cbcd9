begin;
select plan(5);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'), null, 'fhir', 'fhir',
  '{"base_url": "https://ehr.example/fhir/R4"}', null, null, '2026-11-20 08:00-05') as cid \gset
select id as dr from slotoptim_private.provider where key = 'dr-a' \gset
select id as svc from slotoptim_private.service where key = 'short' \gset

select slotoptim.external_sync_started(:cid, true) as g1 \gset
select slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
  jsonb_build_object('id', 'Appointment/a', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
    'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
  :g1, '2026-11-23 08:00-05');
select slotoptim.external_sync_finished(:cid, '{}', true, '2026-11-23 08:00-05');

-- A is deleted in the EHR (no trace in an incremental pull) and C booked into its time: C waits
-- as a conflict until a full pull.
select is(
  (select conflicts from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
     jsonb_build_object('id', 'Appointment/c', 'version', '1', 'updated', '2026-11-23T11:00:00Z', 'status', 'booked',
       'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     :g1, '2026-11-23 08:05-05')),
  1, 'a new appointment in the time of one deleted unseen waits as a conflict');

-- The full pull lists only C; its end releases A although C (in conflict) covers the same time.
select slotoptim.external_sync_started(:cid, true) as g2 \gset
select slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
  jsonb_build_object('id', 'Appointment/c', 'version', '1', 'updated', '2026-11-23T11:00:00Z', 'status', 'booked',
    'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
  :g2, '2026-11-23 08:10-05');
select is(slotoptim.external_sync_finished(:cid, '{}', true, '2026-11-23 08:10-05'), 1,
  'the full pull releases the appointment it no longer lists');
select is(
  (select a.status from slotoptim_private.external_item as i join slotoptim_private.appointment as a
       on a.id = i.appointment_id where i.connection_id = :cid and i.external_id = 'Appointment/a'),
  'cancelled', 'its appointment is cancelled, as any cancellation');
select is(
  (select conflicts from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
     jsonb_build_object('id', 'Appointment/c', 'version', '1', 'updated', '2026-11-23T11:00:00Z', 'status', 'booked',
       'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     :g2, '2026-11-23 08:10-05')),
  0, 'and the waiting appointment then takes the time');
select is(
  (select a.status from slotoptim_private.external_item as i join slotoptim_private.appointment as a
       on a.id = i.appointment_id where i.connection_id = :cid and i.external_id = 'Appointment/c'),
  'booked', 'as a booked appointment of its own');

select * from finish();
rollback;
