-- The outbox of writes to external systems (slotoptim_private.external_write). The protocol:
--   queue   -> a row, in the transaction that changed the subject (coalesces with a queued row);
--   claim   -> SKIP LOCKED with a lease; a crashed worker's rows come back when the lease ends;
--   send    -> the worker builds the request from the subject's current state, with the row's
--              idempotency key, so a resend after a crash never creates a second item;
--   done / failed -> external id recorded, or retried with backoff, or given up.
-- Writes to a connection that is broken or backing off stay queued: held, not lost.

create or replace function slotoptim.queue_external_write(connection_id bigint, kind text, subject text,
                                                          idempotency_key text, payload jsonb default '{}',
                                                          at timestamptz default now())
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
begin
  insert into slotoptim_private.external_write (org_id, connection_id, kind, subject, idempotency_key, payload,
                                                not_before, created_at)
  select c.org_id, c.id, queue_external_write.kind, queue_external_write.subject,
         queue_external_write.idempotency_key, queue_external_write.payload, queue_external_write.at,
         queue_external_write.at
    from slotoptim_private.external_connection as c
   where c.id = queue_external_write.connection_id
  on conflict (connection_id, kind, subject) where status = 'queued' do update
    set payload = excluded.payload, idempotency_key = excluded.idempotency_key,
        not_before = least(slotoptim_private.external_write.not_before, excluded.not_before)
  returning id into v_id;
  if v_id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown external connection %s', queue_external_write.connection_id);
  end if;
  perform pg_catalog.pg_notify('slotoptim_external',
    pg_catalog.json_build_object('v', 1, 'type', 'write_queued', 'write_id', v_id)::text);
  return v_id;
end;
$$;

comment on function slotoptim.queue_external_write(bigint, text, text, text, jsonb, timestamptz) is
  'Queues a write of a subject (e.g. appointment:42) to an external connection; coalesces with a queued write of the same subject. Returns its id.';

create or replace function slotoptim.claim_external_writes(worker text, max_writes integer, kinds text[],
                                                           at timestamptz default now(),
                                                           lease interval default interval '60 seconds')
returns setof slotoptim_private.external_write
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_write as w
     set status = 'sending', locked_by = claim_external_writes.worker,
         locked_until = claim_external_writes.at + claim_external_writes.lease, attempts = w.attempts + 1
   where w.id in (
     select d.id
       from slotoptim_private.external_write as d
       join slotoptim_private.external_connection as c on c.id = d.connection_id
      where ((d.status = 'queued' and d.not_before <= claim_external_writes.at)
             or (d.status = 'sending' and d.locked_until < claim_external_writes.at))
        and d.kind = any (claim_external_writes.kinds)
        and c.state = 'ok'
        and (c.backoff_until is null or c.backoff_until <= claim_external_writes.at)
      order by d.not_before, d.id
      limit claim_external_writes.max_writes
        for update of d skip locked)
  returning w.*;
$$;

comment on function slotoptim.claim_external_writes(text, integer, text[], timestamptz, interval) is
  'Claims due writes of the given kinds to healthy connections for a worker (SKIP LOCKED, lease until at + lease).';

create or replace function slotoptim.external_write_done(write_id bigint, external_id text,
                                                         at timestamptz default now())
returns boolean
language sql
volatile
set search_path = ''
as $$
  with done as (
    update slotoptim_private.external_write as w
       set status = 'done', external_id = external_write_done.external_id, done_at = external_write_done.at,
           locked_by = null, locked_until = null, last_error = null
     where w.id = external_write_done.write_id and w.status = 'sending'
    returning w.connection_id
  )
  update slotoptim_private.external_connection as c
     set writes_done = c.writes_done + 1
    from done
   where c.id = done.connection_id
  returning true;
$$;

comment on function slotoptim.external_write_done(bigint, text, timestamptz) is
  'Records that a claimed write reached the external system, with the id it has there.';

-- A failed send. Transient: queued again for retry_at (the caller's backoff, never before the
-- system's Retry-After) until max_attempts; permanent or out of attempts: failed. A newer queued
-- write of the same subject supersedes a retry: it will carry the current state anyway.
create or replace function slotoptim.external_write_failed(write_id bigint, error text, permanent boolean,
                                                           retry_at timestamptz, at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_write slotoptim_private.external_write;
begin
  select w.* into v_write from slotoptim_private.external_write as w
   where w.id = external_write_failed.write_id for update;
  if v_write.id is null or v_write.status <> 'sending' then
    return 'ignored';
  end if;
  if not external_write_failed.permanent and v_write.attempts < v_write.max_attempts then
    if exists (select 1 from slotoptim_private.external_write as q
                where q.connection_id = v_write.connection_id and q.kind = v_write.kind
                  and q.subject = v_write.subject and q.status = 'queued') then
      update slotoptim_private.external_write as w
         set status = 'cancelled', last_error = left(external_write_failed.error, 500), locked_by = null,
             locked_until = null
       where w.id = v_write.id;
      return 'superseded';
    end if;
    update slotoptim_private.external_write as w
       set status = 'queued', not_before = external_write_failed.retry_at,
           last_error = left(external_write_failed.error, 500), locked_by = null, locked_until = null
     where w.id = v_write.id;
    return 'retry';
  end if;
  update slotoptim_private.external_write as w
     set status = 'failed', last_error = left(external_write_failed.error, 500), locked_by = null,
         locked_until = null, done_at = external_write_failed.at
   where w.id = v_write.id;
  return 'failed';
end;
$$;

comment on function slotoptim.external_write_failed(bigint, text, boolean, timestamptz, timestamptz) is
  'Records a failed send: retry at retry_at (transient), superseded by a newer queued write, or failed.';

-- A write given back unsent (its connection broke or began backing off after the claim): queued
-- again without counting an attempt.
create or replace function slotoptim.external_write_released(write_id bigint, not_before timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.external_write as w
     set status = 'cancelled', last_error = 'superseded while released', locked_by = null, locked_until = null
   where w.id = external_write_released.write_id and w.status = 'sending'
     and exists (select 1 from slotoptim_private.external_write as q
                  where q.connection_id = w.connection_id and q.kind = w.kind and q.subject = w.subject
                    and q.status = 'queued');
  update slotoptim_private.external_write as w
     set status = 'queued', attempts = greatest(w.attempts - 1, 0), not_before = external_write_released.not_before,
         locked_by = null, locked_until = null
   where w.id = external_write_released.write_id and w.status = 'sending'
     and not exists (select 1 from slotoptim_private.external_write as q
                      where q.connection_id = w.connection_id and q.kind = w.kind and q.subject = w.subject
                        and q.status = 'queued');
$$;

comment on function slotoptim.external_write_released(bigint, timestamptz) is
  'Gives a claimed write back unsent (queued again, attempt not counted), unless a newer one is queued.';
