-- Analyst views of the external connections. No secret ever appears here: only whether one is set.

create or replace view slotoptim.calendar_connections with (security_invoker = true) as
select c.id,
       o.key as org_key,
       p.key as provider_key,
       c.kind,
       c.config ->> 'calendar_id' as calendar_id,
       c.state,
       c.last_error,
       c.last_error_at,
       c.last_sync_at,
       c.last_full_sync_at,
       c.cursor is not null as has_cursor,
       c.backoff_until,
       c.consecutive_failures,
       c.items_imported,
       c.items_released,
       c.writes_done,
       c.conflicts,
       (select count(*) from slotoptim_private.external_write as w
         where w.connection_id = c.id and w.status in ('queued', 'sending')) as writes_pending,
       (select count(*) from slotoptim_private.external_write as w
         where w.connection_id = c.id and w.status = 'failed') as writes_failed,
       (select max(ch.expires_at) from slotoptim_private.external_channel as ch
         where ch.connection_id = c.id and ch.status = 'active') as push_expires_at,
       c.created_at
  from slotoptim_private.external_connection as c
  join slotoptim_private.organisation as o on o.id = c.org_id
  join slotoptim_private.provider as p on p.id = c.provider_id
 where c.purpose = 'calendar';

comment on view slotoptim.calendar_connections is
  'Each provider''s linked calendar: kind, health, sync state, counters and pending writes. Never secrets.';
comment on column slotoptim.calendar_connections.id is 'Connection id.';
comment on column slotoptim.calendar_connections.org_key is 'Organisation key.';
comment on column slotoptim.calendar_connections.provider_key is 'Provider whose calendar this is.';
comment on column slotoptim.calendar_connections.kind is 'google, microsoft, caldav or ics.';
comment on column slotoptim.calendar_connections.calendar_id is 'The calendar''s id (or collection URL) at the provider.';
comment on column slotoptim.calendar_connections.state is 'ok, broken (grant revoked or credentials refused: reconnect) or disabled.';
comment on column slotoptim.calendar_connections.last_error is 'The last failure, without secrets.';
comment on column slotoptim.calendar_connections.last_error_at is 'When the last failure happened.';
comment on column slotoptim.calendar_connections.last_sync_at is 'When the last inbound sync completed.';
comment on column slotoptim.calendar_connections.last_full_sync_at is 'When the last full (not incremental) sync completed.';
comment on column slotoptim.calendar_connections.has_cursor is 'Whether an incremental sync cursor is held (sync token, delta link).';
comment on column slotoptim.calendar_connections.backoff_until is 'Throttled: nothing is pulled or written before this.';
comment on column slotoptim.calendar_connections.consecutive_failures is 'Transient failures in a row.';
comment on column slotoptim.calendar_connections.items_imported is 'External busy events imported as blocking time.';
comment on column slotoptim.calendar_connections.items_released is 'External events whose time was freed (cancelled, deleted, moved).';
comment on column slotoptim.calendar_connections.writes_done is 'Bookings written to the calendar.';
comment on column slotoptim.calendar_connections.conflicts is 'External busy events that overlapped a SlotOptim booking.';
comment on column slotoptim.calendar_connections.writes_pending is 'Writes queued or being sent.';
comment on column slotoptim.calendar_connections.writes_failed is 'Writes given up after their attempts.';
comment on column slotoptim.calendar_connections.push_expires_at is 'When the live push channel expires (null: polling only).';
comment on column slotoptim.calendar_connections.created_at is 'When the calendar was linked.';
