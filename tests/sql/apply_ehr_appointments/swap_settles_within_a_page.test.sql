begin;
select plan(6);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'), null, 'fhir', 'fhir',
  '{"base_url": "https://ehr.example/fhir/R4"}', null, null, '2026-11-20 08:00-05') as cid \gset
select id as dr from slotoptim_private.provider where key = 'dr-a' \gset
select id as svc from slotoptim_private.service where key = 'short' \gset

-- A at 10:00, B at 10:15.
select slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
  jsonb_build_object('id', 'Appointment/a', 'version', '1', 'updated', '2026-11-23T10:00:00Z', 'status', 'booked',
    'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc),
  jsonb_build_object('id', 'Appointment/b', 'version', '1', 'updated', '2026-11-23T10:00:01Z', 'status', 'booked',
    'start', '2026-11-24T10:15:00-05:00', 'end', '2026-11-24T10:30:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
  0, '2026-11-23 08:00-05');

-- In the EHR they swapped times (through a third time, so B's change is listed before A's): the
-- page names B moving into A's time first, while A still holds it here.
select is(
  (select row(imported, updated, conflicts)::text from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
     jsonb_build_object('id', 'Appointment/b', 'version', '2', 'updated', '2026-11-23T11:00:00Z', 'status', 'booked',
       'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc),
     jsonb_build_object('id', 'Appointment/a', 'version', '3', 'updated', '2026-11-23T11:00:01Z', 'status', 'booked',
       'start', '2026-11-24T10:15:00-05:00', 'end', '2026-11-24T10:30:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:05-05')),
  '(0,2,0)', 'a swap listed in the wrong order settles within the page: both moved, no conflict left');
select is((select count(*)::int from slotoptim_private.external_item where connection_id = :cid and state = 'conflict'),
  0, 'no item waits in conflict');
select is(
  (select string_agg(i.external_id || ' ' || to_char(lower(a.period) at time zone 'America/New_York', 'HH24:MI')
                     || ' ' || a.status, ', ' order by i.external_id)
     from slotoptim_private.external_item as i join slotoptim_private.appointment as a on a.id = i.appointment_id
    where i.connection_id = :cid),
  'Appointment/a 10:15 booked, Appointment/b 10:00 booked', 'each holds the other''s former time');

-- A cancellation in the same page as a booking into its time: the free is applied first, whatever
-- the page's order.
select is(
  (select row(imported, released, conflicts)::text from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
     jsonb_build_object('id', 'Appointment/c', 'version', '1', 'updated', '2026-11-23T12:00:00Z', 'status', 'booked',
       'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc),
     jsonb_build_object('id', 'Appointment/b', 'version', '3', 'updated', '2026-11-23T12:00:01Z', 'status', 'cancelled',
       'start', '2026-11-24T10:00:00-05:00', 'end', '2026-11-24T10:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:10-05')),
  '(1,1,0)', 'a cancellation frees its time before a booking in the same page takes it');

-- A SlotOptim booking in the way stays a conflict: the retry stops when a round places nothing.
insert into slotoptim_private.appointment (org_id, provider_id, service_id, period, status, source)
select org_id, :dr, :svc, tstzrange('2026-11-24 11:00-05', '2026-11-24 11:15-05'), 'booked', 'staff'
  from slotoptim_private.provider where id = :dr;
select is(
  (select conflicts from slotoptim.apply_ehr_appointments(:cid, jsonb_build_array(
     jsonb_build_object('id', 'Appointment/d', 'version', '1', 'updated', '2026-11-23T13:00:00Z', 'status', 'booked',
       'start', '2026-11-24T11:00:00-05:00', 'end', '2026-11-24T11:15:00-05:00', 'provider_id', :dr, 'service_id', :svc)),
     0, '2026-11-23 08:15-05')),
  1, 'busy time over a SlotOptim booking is a conflict');
select is((select state from slotoptim_private.external_item where connection_id = :cid and external_id = 'Appointment/d'),
  'conflict', 'and waits as one');

select * from finish();
rollback;
