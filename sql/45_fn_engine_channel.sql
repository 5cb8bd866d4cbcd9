-- The engine's LISTEN/NOTIFY channel names. PostgreSQL cannot restrict who may LISTEN or NOTIFY on
-- a channel (no privilege covers channel names), so the names carry a secret suffix instead: the
-- engine and the application role learn them through this function, which reads
-- slotoptim_private.instance_secret (owner-only). An analyst login can neither compute the names
-- (no execute here, no read of the secret) nor see them (pg_stat_activity hides other roles'
-- queries), so it can neither receive the engine's gap and offer ids nor wake the engine.

insert into slotoptim_private.instance_secret (name, value)
values ('engine_channel',
        pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text,
                                             '-', ''), 'hex'))
on conflict (name) do nothing;

create or replace function slotoptim_private.engine_channel(kind text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  -- 16 of the secret's bytes: the name stays within PostgreSQL's 63-byte limit.
  select 'slotoptim_' || engine_channel.kind || '_' || pg_catalog.encode(pg_catalog.substring(s.value, 1, 16), 'hex')
    from slotoptim_private.instance_secret as s
   where s.name = 'engine_channel';
$$;

comment on function slotoptim_private.engine_channel(text) is
  'The LISTEN/NOTIFY channel of the engine for kind gap, outbox, external (calendar and EHR sync), queue (check-in screens) or api_key (the key caches of the API processes): slotoptim_<kind>_<secret>. Not for analysts.';
