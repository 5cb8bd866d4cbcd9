-- Any change to API keys (revoked, deleted, a role changed) tells the API processes at commit, on
-- the secret channel engine_channel('api_key'): each empties its short-lived key cache
-- (api/keycache.py). Statement-level: one notification per statement, however many rows.
-- Security definer: engine_channel is not executable by every role that may revoke a key.
create or replace function slotoptim_private.api_key_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('api_key'), '{"v": 1, "type": "api_key_changed"}');
  return null;
end;
$$;

comment on function slotoptim_private.api_key_changed() is
  'Trigger: notifies the API processes that API keys changed, so their key caches are emptied.';

create or replace trigger api_key_changed
  after update or delete or truncate on slotoptim_private.api_key
  for each statement execute function slotoptim_private.api_key_changed();
