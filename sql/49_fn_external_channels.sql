-- Push channels (Google watch channels, Graph subscriptions): opened, heard from, renewed.

-- Records a newly opened channel. Older live channels of the connection are marked replaced: they
-- may still deliver during the overlap (their messages are accepted until they expire) and the
-- service stops them. Returns the new channel's id.
create or replace function slotoptim.external_channel_opened(connection_id bigint, channel_key text, resource_id text,
                                                             token_sha256 bytea, expires_at timestamptz,
                                                             at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id bigint;
begin
  update slotoptim_private.external_channel as ch
     set status = 'replaced'
   where ch.connection_id = external_channel_opened.connection_id and ch.status = 'active';
  insert into slotoptim_private.external_channel (org_id, connection_id, channel_key, resource_id, token_sha256,
                                                  expires_at, created_at)
  select c.org_id, c.id, external_channel_opened.channel_key, external_channel_opened.resource_id,
         external_channel_opened.token_sha256, external_channel_opened.expires_at, external_channel_opened.at
    from slotoptim_private.external_connection as c
   where c.id = external_channel_opened.connection_id
  returning id into v_id;
  if v_id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown external connection %s', external_channel_opened.connection_id);
  end if;
  return v_id;
end;
$$;

comment on function slotoptim.external_channel_opened(bigint, text, text, bytea, timestamptz, timestamptz) is
  'Records a push channel opened for a connection (token stored as SHA-256); earlier live ones become replaced.';

-- A verified message arrived on a channel: remember it and ask for a sync. Returns the connection.
-- Stale message numbers (Google: increasing, not sequential) are accepted but never go backwards.
create or replace function slotoptim.external_push_received(channel_id bigint, message_number bigint,
                                                            at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_connection_id bigint;
begin
  update slotoptim_private.external_channel as ch
     set last_message_number = greatest(ch.last_message_number, external_push_received.message_number),
         last_message_at = external_push_received.at
   where ch.id = external_push_received.channel_id and ch.status in ('active', 'replaced')
  returning ch.connection_id into v_connection_id;
  if v_connection_id is not null then
    perform slotoptim.external_sync_requested(v_connection_id, external_push_received.at);
  end if;
  return v_connection_id;
end;
$$;

comment on function slotoptim.external_push_received(bigint, bigint, timestamptz) is
  'Records a verified push message on a channel and requests a sync of its connection; returns the connection id.';

-- Connections of a purpose whose push channel must be (re)opened: healthy, and no live channel
-- that outlives at + renew_before.
create or replace function slotoptim.external_channels_due(purpose text, renew_before interval,
                                                           at timestamptz default now())
returns setof bigint
language sql
stable
set search_path = ''
as $$
  select c.id
    from slotoptim_private.external_connection as c
   where c.purpose = external_channels_due.purpose
     and c.state = 'ok'
     and not exists (select 1 from slotoptim_private.external_channel as ch
                      where ch.connection_id = c.id and ch.status = 'active'
                        and ch.expires_at > external_channels_due.at + external_channels_due.renew_before)
   order by c.id;
$$;

comment on function slotoptim.external_channels_due(text, interval, timestamptz) is
  'Ids of healthy connections with no live push channel lasting beyond at + renew_before (open or renew one).';

-- The system extended a channel (Graph PATCH of expirationDateTime): same channel, later expiry.
create or replace function slotoptim.external_channel_renewed(channel_id bigint, expires_at timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_channel as ch
     set expires_at = external_channel_renewed.expires_at, status = 'active'
   where ch.id = external_channel_renewed.channel_id;
$$;

comment on function slotoptim.external_channel_renewed(bigint, timestamptz) is
  'Records that a push channel was extended until expires_at.';

-- A lifecycle message about a channel (Graph): reauthorizationRequired asks for a renewal now,
-- subscriptionRemoved for a new channel, missed for a full resync; each also asks for a sync,
-- since changes may have gone unannounced.
create or replace function slotoptim.external_channel_lifecycle(channel_id bigint, lifecycle_event text,
                                                                at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_channel slotoptim_private.external_channel;
begin
  select ch.* into v_channel from slotoptim_private.external_channel as ch
   where ch.id = external_channel_lifecycle.channel_id for update;
  if v_channel.id is null then
    return 'ignored';
  end if;
  if external_channel_lifecycle.lifecycle_event = 'reauthorizationRequired' then
    update slotoptim_private.external_channel as ch set expires_at = least(ch.expires_at, external_channel_lifecycle.at)
     where ch.id = v_channel.id;
  elsif external_channel_lifecycle.lifecycle_event = 'subscriptionRemoved' then
    update slotoptim_private.external_channel as ch set status = 'stopped' where ch.id = v_channel.id;
  elsif external_channel_lifecycle.lifecycle_event = 'missed' then
    perform slotoptim.external_cursor_reset(v_channel.connection_id);
  else
    return 'ignored';
  end if;
  perform slotoptim.external_sync_requested(v_channel.connection_id, external_channel_lifecycle.at);
  return external_channel_lifecycle.lifecycle_event;
end;
$$;

comment on function slotoptim.external_channel_lifecycle(bigint, text, timestamptz) is
  'Handles a lifecycle message of a push channel (reauthorizationRequired, subscriptionRemoved, missed) and requests a sync.';
