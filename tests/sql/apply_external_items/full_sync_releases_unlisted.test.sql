begin;
select plan(4);
select tests.make_practice();
select slotoptim.connect_external(
  (select id from slotoptim_private.organisation where key = 'acme'),
  (select id from slotoptim_private.provider where key = 'dr-a'),
  'calendar', 'google', '{}', null, null, '2026-11-20 08:00-05') as cid \gset

select slotoptim.external_sync_started(:cid, true) as g1 \gset
select slotoptim.apply_external_items(:cid,
  '[{"id": "keep", "start": "2026-11-24T09:00:00-05:00", "end": "2026-11-24T09:30:00-05:00", "busy": true},
    {"id": "gone", "start": "2026-11-24T11:00:00-05:00", "end": "2026-11-24T12:00:00-05:00", "busy": true}]',
  :g1, '2026-11-23 08:00-05');
select is(slotoptim.external_sync_finished(:cid, 'token-1', true, '2026-11-23 08:00-05'), 0,
  'the first full sync releases nothing');

-- The token expired (410); "gone" was deleted meanwhile, and a full list has no tombstone for it.
select slotoptim.external_sync_started(:cid, true) as g2 \gset
select slotoptim.apply_external_items(:cid,
  '[{"id": "keep", "start": "2026-11-24T09:00:00-05:00", "end": "2026-11-24T09:30:00-05:00", "busy": true}]',
  :g2, '2026-11-23 09:00-05');
select is(slotoptim.external_sync_finished(:cid, 'token-2', true, '2026-11-23 09:00-05'), 1,
  'the full resync releases the event it no longer lists');
select is(
  (select array_agg(i.external_id || ':' || a.status order by i.external_id)
     from slotoptim_private.external_item i join slotoptim_private.appointment a on a.id = i.appointment_id),
  array['gone:cancelled', 'keep:booked'], 'only the unlisted event is cancelled');
select is((select cursor from slotoptim_private.external_connection where id = :cid), 'token-2',
  'and the new token is kept');

select * from finish();
rollback;
