-- The web API's own records: API keys of an organisation, and the webhook deliveries already
-- processed (Twilio retries; a retry must not act twice).

-- An API key is `so_<prefix>_<secret>`. The secret is shown once, when the key is created, and
-- only its SHA-256 is kept; the prefix finds the row. Revoking keeps the row (the audit trail and
-- the API's logs name keys by id).
create table if not exists slotoptim_private.api_key (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  name text not null
    constraint api_key_name_length check (length(name) between 1 and 200),
  prefix text not null unique
    constraint api_key_prefix_format check (prefix ~ '^[a-z0-9]{8}$'),
  secret_sha256 bytea not null
    constraint api_key_hash_length check (length(secret_sha256) = 32),
  role text not null
    constraint api_key_role_known check (role in ('admin', 'staff', 'readonly')),
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  unique (org_id, id)
);

create index if not exists api_key_org_idx on slotoptim_private.api_key (org_id);

-- Webhook deliveries processed, keyed by the provider's id (Twilio's MessageSid) and the event:
-- 'inbound' for a received message, 'status:<status>' for each delivery status of a sent one
-- (one message has several). Inserted in the transaction that acts on the delivery, so a retry
-- either finds the row and changes nothing, or finds none because the first attempt rolled back.
-- The reply sent the first time is kept, so a retry gets the same answer; it never holds health
-- details (see slotoptim.api.webhook_replies).
create table if not exists slotoptim_private.webhook_event (
  provider_id text not null
    constraint webhook_event_provider_id_length check (length(provider_id) between 1 and 64),
  kind text not null
    constraint webhook_event_kind_known check (kind ~ '^(inbound|status:[a-z_]{1,32})$'),
  -- The organisation it was routed to; null when no organisation knows the number or message.
  org_id bigint references slotoptim_private.organisation (id) on delete cascade,
  reply text
    constraint webhook_event_reply_length check (length(reply) <= 1600),
  received_at timestamptz not null default now(),
  primary key (provider_id, kind)
);

create index if not exists webhook_event_received_idx on slotoptim_private.webhook_event (received_at);
