-- The life of an external connection: linked (or relinked), synced, throttled, broken.
-- Python adapters call these; the state they keep is what /readyz, the dashboard and
-- slotoptim.calendar_connections show.

-- Links a provider (or, with no provider, the organisation) to an external system for a purpose,
-- replacing an earlier link of the same purpose. `secret` is already sealed (AES-GCM) by the caller:
-- the database never sees a secret in clear. A new kind or target starts over: no cursor, no channels.
create or replace function slotoptim.connect_external(org_id bigint, provider_id bigint, purpose text, kind text,
                                                      config jsonb, secret bytea, secret_key_id text,
                                                      at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
  v_same_target boolean;
begin
  select c.id, (c.kind = connect_external.kind and c.config = connect_external.config)
    into v_id, v_same_target
    from slotoptim_private.external_connection as c
   where c.org_id = connect_external.org_id
     and c.provider_id is not distinct from connect_external.provider_id
     and c.purpose = connect_external.purpose
     for update;
  if v_id is null then
    insert into slotoptim_private.external_connection (org_id, provider_id, purpose, kind, config, secret,
                                                       secret_key_id, created_at)
    values (connect_external.org_id, connect_external.provider_id, connect_external.purpose, connect_external.kind,
            connect_external.config, connect_external.secret, connect_external.secret_key_id, connect_external.at)
    returning id into v_id;
    return v_id;
  end if;
  update slotoptim_private.external_connection as c
     set kind = connect_external.kind, config = connect_external.config, secret = connect_external.secret,
         secret_key_id = connect_external.secret_key_id, state = 'ok', last_error = null, last_error_at = null,
         backoff_until = null, consecutive_failures = 0,
         cursor = case when v_same_target then c.cursor end
   where c.id = v_id;
  if not v_same_target then
    update slotoptim_private.external_channel as ch set status = 'stopped'
     where ch.connection_id = v_id and ch.status = 'active';
  end if;
  return v_id;
end;
$$;

comment on function slotoptim.connect_external(bigint, bigint, text, text, jsonb, bytea, text, timestamptz) is
  'Links a provider (or the organisation) to an external system for a purpose; secret is AES-GCM sealed by the caller. Returns the connection id.';

-- Replaces the sealed secrets (a refreshed access token) without touching the sync state.
create or replace function slotoptim.external_secret_rotated(connection_id bigint, secret bytea, secret_key_id text)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c
     set secret = external_secret_rotated.secret, secret_key_id = external_secret_rotated.secret_key_id
   where c.id = external_secret_rotated.connection_id;
$$;

comment on function slotoptim.external_secret_rotated(bigint, bytea, text) is
  'Stores newly sealed secrets of a connection (after a token refresh).';

-- The grant is gone (invalid_grant, 401 after refresh, a wrong password): nothing more is pulled
-- from or written to it until someone reconnects. Queued writes wait; they are not lost.
create or replace function slotoptim.external_connection_broken(connection_id bigint, error text,
                                                                at timestamptz default now())
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c
     set state = 'broken', last_error = left(external_connection_broken.error, 500),
         last_error_at = external_connection_broken.at
   where c.id = external_connection_broken.connection_id;
  select pg_catalog.pg_notify('slotoptim_external',
    pg_catalog.json_build_object('v', 1, 'type', 'connection_broken',
                                 'connection_id', external_connection_broken.connection_id)::text);
$$;

comment on function slotoptim.external_connection_broken(bigint, text, timestamptz) is
  'Marks a connection broken (revoked grant, bad credentials): no sync or write until it is reconnected.';

-- A transient failure (throttled, 5xx, timeout): back off this connection only, until retry_at.
create or replace function slotoptim.external_connection_throttled(connection_id bigint, error text,
                                                                   retry_at timestamptz,
                                                                   at timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c
     set consecutive_failures = c.consecutive_failures + 1, backoff_until = external_connection_throttled.retry_at,
         last_error = left(external_connection_throttled.error, 500), last_error_at = external_connection_throttled.at
   where c.id = external_connection_throttled.connection_id
  returning c.consecutive_failures;
$$;

comment on function slotoptim.external_connection_throttled(bigint, text, timestamptz, timestamptz) is
  'Records a transient failure of a connection and holds it off until retry_at; returns the failures in a row.';

-- Starts an inbound sync; a full one opens a new generation, so what it does not list can be released.
create or replace function slotoptim.external_sync_started(connection_id bigint, full_sync boolean)
returns integer
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c
     set sync_generation = c.sync_generation + case when external_sync_started.full_sync then 1 else 0 end
   where c.id = external_sync_started.connection_id
  returning c.sync_generation;
$$;

comment on function slotoptim.external_sync_started(bigint, boolean) is
  'Begins an inbound sync of a connection; a full sync starts a new generation. Returns the generation.';

-- Ends an inbound sync: stores the cursor and, after a full sync, releases the busy items that the
-- full list no longer returned (a full list carries no tombstones for deletions made while the
-- old cursor was invalid). Returns how many were released.
create or replace function slotoptim.external_sync_finished(connection_id bigint, cursor text, full_sync boolean,
                                                            at timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_connection slotoptim_private.external_connection;
  v_released integer := 0;
begin
  select c.* into v_connection
    from slotoptim_private.external_connection as c where c.id = external_sync_finished.connection_id for update;
  if v_connection.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown external connection %s', external_sync_finished.connection_id);
  end if;
  if external_sync_finished.full_sync then
    v_released := slotoptim_private.release_external_items(
      v_connection.id, v_connection.sync_generation, external_sync_finished.at);
  end if;
  update slotoptim_private.external_connection as c
     set cursor = external_sync_finished.cursor, last_sync_at = external_sync_finished.at,
         last_full_sync_at = case when external_sync_finished.full_sync then external_sync_finished.at
                                  else c.last_full_sync_at end,
         consecutive_failures = 0, backoff_until = null, last_error = null, last_error_at = null, state = 'ok',
         items_released = c.items_released + v_released
   where c.id = v_connection.id;
  return v_released;
end;
$$;

comment on function slotoptim.external_sync_finished(bigint, text, boolean, timestamptz) is
  'Ends an inbound sync: stores the cursor, clears failures and, after a full sync, releases unlisted busy items.';

-- Drops the cursor so the next sync is a full one (Google 410, Graph syncStateNotFound).
create or replace function slotoptim.external_cursor_reset(connection_id bigint)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c set cursor = null
   where c.id = external_cursor_reset.connection_id;
$$;

comment on function slotoptim.external_cursor_reset(bigint) is
  'Forgets the sync cursor of a connection so that its next sync is a full one.';

-- A push notification (or a claim about to commit) asks for a sync of this connection now.
create or replace function slotoptim.external_sync_requested(connection_id bigint, at timestamptz default now())
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_connection as c
     set sync_requested_at = greatest(c.sync_requested_at, external_sync_requested.at)
   where c.id = external_sync_requested.connection_id;
  select pg_catalog.pg_notify('slotoptim_external',
    pg_catalog.json_build_object('v', 1, 'type', 'sync_requested',
                                 'connection_id', external_sync_requested.connection_id)::text);
$$;

comment on function slotoptim.external_sync_requested(bigint, timestamptz) is
  'Asks for a sync of a connection as soon as possible (a push arrived) and wakes the service.';

-- Connections whose inbound sync is due: not broken or disabled, not held off, and either asked
-- for by a push since their last sync, or not synced within `every` (`every_with_push` while a
-- push channel is live: polling is the safety net for lost notifications, not the main path).
create or replace function slotoptim.external_syncs_due(purpose text, every interval, every_with_push interval,
                                                        at timestamptz default now())
returns setof bigint
language sql
stable
set search_path = ''
as $$
  select c.id
    from slotoptim_private.external_connection as c
   where c.purpose = external_syncs_due.purpose
     and c.state = 'ok'
     and (c.backoff_until is null or c.backoff_until <= external_syncs_due.at)
     and (c.last_sync_at is null
          or c.sync_requested_at >= c.last_sync_at
          or c.last_sync_at <= external_syncs_due.at - case
               when exists (select 1 from slotoptim_private.external_channel as ch
                             where ch.connection_id = c.id and ch.status = 'active'
                               and ch.expires_at > external_syncs_due.at)
               then external_syncs_due.every_with_push
               else external_syncs_due.every end)
   order by c.sync_requested_at desc nulls last, c.last_sync_at nulls first, c.id;
$$;

comment on function slotoptim.external_syncs_due(text, interval, interval, timestamptz) is
  'Ids of the healthy connections of a purpose due for a sync: asked for by a push, or polled every "every" ("every_with_push" while a push channel is live).';
