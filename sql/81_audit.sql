-- The audit trail: every change to appointments, offers (claims included), offer campaigns (starts,
-- waves, releases, expiries, with their status_reason), consent, waitlist entries and settings writes one slotoptim_private.audit_event row in the same transaction.
--
-- Who: the JSON in slotoptim.actor ({"kind": "api_key" | "user" | "system", "id": ..., "address": ...},
-- set transaction-locally by the API; absent means {"kind": "system"}). What: the entity, its id,
-- the action and the old and new values of an allow-list of columns (ids, statuses, times,
-- consent flags, settings; never names, contact details, message bodies or clinical notes).
-- When: the transaction's start, now().
--
-- Rows are captured by statement-level triggers with transition tables (one insert per statement
-- into slotoptim_private.audit_pending, however many rows it changed) and chained per
-- organisation at commit, all at once, by one deferred constraint trigger (audit_seal): a
-- transaction locks the chain heads of the organisations it changed (in id order, so two
-- transactions never deadlock on them) only once all its other work is done, which keeps the
-- serialisation point short: a claim holds its organisation's head for the few rows of its
-- commit, not for the whole booking. (Until issue 18 each row was written and hashed by a deferred
-- per-row trigger at commit, ~0.25 ms a row.)

-- The canonical text of a row and its chained hash: sha256(prev_hash || text). The time is
-- written in UTC and the values as stored jsonb, so the text does not depend on session settings.
create or replace function slotoptim_private.audit_hash(e slotoptim_private.audit_event)
returns bytea
language sql
stable
parallel safe
set search_path = ''
as $$
  select pg_catalog.sha256(
           coalesce(e.prev_hash, ''::bytea)
           || pg_catalog.convert_to(
                pg_catalog.jsonb_build_array(
                  e.org_id, e.seq, e.id,
                  pg_catalog.to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                  e.actor_kind, e.actor_id, e.actor_address, e.entity, e.entity_id, e.action,
                  e.old_values, e.new_values)::text,
                'UTF8'));
$$;

-- Appends a row to its organisation's chain. The chain head (audit_chain) is locked first, so
-- writers of one organisation append one after the other and the chain never forks (under
-- REPEATABLE READ a concurrent append is a serialization failure, to be retried). The row follows
-- the later of the head (what earlier transactions committed) and this transaction's own last row:
-- the head is written once per transaction, at its end (audit_event_head), because updating one
-- row thousands of times in a transaction makes every update slower than the last.
-- Whatever the writer put in seq, prev_hash and hash is replaced.
create or replace function slotoptim_private.audit_event_chain()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_head slotoptim_private.audit_chain;
  v_seq bigint;
  v_prev bytea;
begin
  select * into v_head from slotoptim_private.audit_chain as h where h.org_id = new.org_id for update;
  if not found then
    insert into slotoptim_private.audit_chain (org_id) values (new.org_id) on conflict (org_id) do nothing;
    select * into v_head from slotoptim_private.audit_chain as h where h.org_id = new.org_id for update;
  end if;
  select e.seq, e.hash into v_seq, v_prev
    from slotoptim_private.audit_event as e
   where e.org_id = new.org_id
   order by e.seq desc
   limit 1;
  -- Rows past the head are this transaction's own; rows missing below it were removed, and the
  -- chain goes on from the head so that the hole shows.
  if v_seq is null or v_seq < v_head.seq then
    v_seq := v_head.seq;
    v_prev := v_head.hash;
  end if;
  new.seq := v_seq + 1;
  new.prev_hash := v_prev;
  new.at := coalesce(new.at, pg_catalog.now());
  new.hash := slotoptim_private.audit_hash(new);
  return new;
end;
$$;

-- The seal (audit_seal) chains its rows itself and says so in slotoptim.audit_sealing.
create or replace trigger audit_event_chain
  before insert on slotoptim_private.audit_event
  for each row when (pg_catalog.current_setting('slotoptim.audit_sealing', true) is distinct from 'on')
  execute function slotoptim_private.audit_event_chain();

-- At commit, once every audit row of the transaction is written: the head takes the last one.
-- Security definer: it fires at the commit of an application-role transaction.
create or replace function slotoptim_private.audit_event_head()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.seq = (select max(e.seq) from slotoptim_private.audit_event as e where e.org_id = new.org_id) then
    update slotoptim_private.audit_chain as h
       set seq = new.seq, hash = new.hash
     where h.org_id = new.org_id and h.seq < new.seq;
  end if;
  return null;
end;
$$;

drop trigger if exists audit_event_head on slotoptim_private.audit_event;
create constraint trigger audit_event_head
  after insert on slotoptim_private.audit_event
  deferrable initially deferred
  for each row when (pg_catalog.current_setting('slotoptim.audit_sealing', true) is distinct from 'on')
  execute function slotoptim_private.audit_event_head();

-- Append-only: the trigger refuses even the owner (privileges refuse everyone else).
create or replace function slotoptim_private.audit_event_refuse()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'insufficient_privilege',
    message = format('the audit trail is append-only: %s is refused', pg_catalog.lower(tg_op));
end;
$$;

create or replace trigger audit_event_append_only
  before update or delete on slotoptim_private.audit_event
  for each row execute function slotoptim_private.audit_event_refuse();

create or replace trigger audit_event_no_truncate
  before truncate on slotoptim_private.audit_event
  for each statement execute function slotoptim_private.audit_event_refuse();

-- Every new organisation starts an empty chain, so the head row exists before the first writer
-- needs to lock it.
create or replace function slotoptim_private.audit_chain_start()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into slotoptim_private.audit_chain (org_id) values (new.id) on conflict (org_id) do nothing;
  return null;
end;
$$;

create or replace trigger organisation_audit_chain
  after insert on slotoptim_private.organisation
  for each row execute function slotoptim_private.audit_chain_start();

-- The audited values of a row: the allow-listed columns (trigger arguments), or every column but
-- org_id when the list is '*'.
create or replace function slotoptim_private.audit_values(p_row jsonb, p_columns text[])
returns jsonb
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
           when '*' = any (p_columns) then p_row - 'org_id'
           else (select pg_catalog.jsonb_object_agg(c.name, p_row -> c.name) from unnest(p_columns) as c(name))
         end;
$$;

-- Who acted, from slotoptim.actor (absent: the system). A malformed setting is refused rather than
-- recorded wrongly.
create or replace function slotoptim_private.audit_actor()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_setting text := nullif(pg_catalog.current_setting('slotoptim.actor', true), '');
  v_actor jsonb;
begin
  -- A cast in its own block rather than pg_input_is_valid(), which PostgreSQL 15 lacks. The block
  -- writes nothing, so its subtransaction never takes a transaction id.
  begin
    v_actor := coalesce(v_setting::jsonb, '{"kind": "system"}'::jsonb);
  exception when invalid_text_representation then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'slotoptim.actor must be JSON: {"kind": "api_key" | "user" | "system", "id": ..., "address": ...}';
  end;
  if jsonb_typeof(v_actor) <> 'object' or coalesce(v_actor ->> 'kind', '') not in ('api_key', 'user', 'system') then
    raise exception using errcode = 'invalid_parameter_value',
      message = format('slotoptim.actor has no known kind (api_key, user, system): %s', v_setting);
  end if;
  return v_actor;
end;
$$;

-- At commit (deferred; at the end of the statement under SET CONSTRAINTS ALL IMMEDIATE): chains
-- every audit row the transaction captured since its last seal, in the order they were captured,
-- and deletes them from audit_pending. The chain heads of their organisations are locked only now,
-- lowest id first (two transactions never deadlock on them), which keeps the serialisation point
-- short: a claim holds its organisation's head for the few rows of its commit, not for the whole
-- booking. Each organisation's chain goes on from the later of its head and its last row (rows
-- removed below the head leave a hole that shows); the rows are hashed here, one after the other,
-- and written in one statement (audit_event_chain and audit_event_head step aside for it:
-- slotoptim.audit_sealing), and each head takes its last row. Fires once per transaction and seal
-- (the capture marks the first row it writes, audit_pending.seals). Security definer: it fires at
-- the commit of an application-role transaction.
create or replace function slotoptim_private.audit_seal()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_sequence regclass := pg_catalog.pg_get_serial_sequence('slotoptim_private.audit_event', 'id')::regclass;
  v_orgs bigint[];
  v_pending slotoptim_private.audit_pending;
  v_event slotoptim_private.audit_event;
  v_events slotoptim_private.audit_event[] := '{}';
  v_head slotoptim_private.audit_chain;
  v_org bigint;
  v_seq bigint;
  v_hash bytea;
  v_last_seq bigint;
  v_last_hash bytea;
  v_heads slotoptim_private.audit_chain[] := '{}';
begin
  -- First: whatever is captured after this (later in the commit) marks a row and seals again.
  perform pg_catalog.set_config('slotoptim.audit_unsealed', '', true);
  select array_agg(distinct p.org_id order by p.org_id) into v_orgs from slotoptim_private.audit_pending as p;
  if v_orgs is null then
    return null;
  end if;
  insert into slotoptim_private.audit_chain (org_id)
  select o from unnest(v_orgs) as o order by o
  on conflict (org_id) do nothing;
  perform 1 from slotoptim_private.audit_chain as h where h.org_id = any (v_orgs) order by h.org_id for update;

  for v_pending in select * from slotoptim_private.audit_pending as p order by p.org_id, p.id loop
    if v_pending.org_id is distinct from v_org then
      if v_org is not null then
        v_heads := v_heads || row(v_org, v_seq, v_hash)::slotoptim_private.audit_chain;
      end if;
      v_org := v_pending.org_id;
      select * into v_head from slotoptim_private.audit_chain as h where h.org_id = v_org;
      select e.seq, e.hash into v_last_seq, v_last_hash
        from slotoptim_private.audit_event as e
       where e.org_id = v_org
       order by e.seq desc
       limit 1;
      if v_last_seq is null or v_last_seq < v_head.seq then
        v_seq := v_head.seq;
        v_hash := v_head.hash;
      else
        v_seq := v_last_seq;
        v_hash := v_last_hash;
      end if;
    end if;
    v_event.id := pg_catalog.nextval(v_sequence);
    v_event.org_id := v_pending.org_id;
    v_event.seq := v_seq + 1;
    v_event.at := v_pending.at;
    v_event.actor_kind := v_pending.actor_kind;
    v_event.actor_id := v_pending.actor_id;
    v_event.actor_address := v_pending.actor_address;
    v_event.entity := v_pending.entity;
    v_event.entity_id := v_pending.entity_id;
    v_event.action := v_pending.action;
    v_event.old_values := v_pending.old_values;
    v_event.new_values := v_pending.new_values;
    v_event.prev_hash := v_hash;
    v_event.hash := slotoptim_private.audit_hash(v_event);
    v_seq := v_event.seq;
    v_hash := v_event.hash;
    v_events := v_events || v_event;
  end loop;
  v_heads := v_heads || row(v_org, v_seq, v_hash)::slotoptim_private.audit_chain;

  perform pg_catalog.set_config('slotoptim.audit_sealing', 'on', true);
  insert into slotoptim_private.audit_event overriding system value
  select * from unnest(v_events);
  perform pg_catalog.set_config('slotoptim.audit_sealing', '', true);
  delete from slotoptim_private.audit_pending;
  update slotoptim_private.audit_chain as h
     set seq = n.seq, hash = n.hash
    from unnest(v_heads) as n
   where h.org_id = n.org_id;
  return null;
end;
$$;

drop trigger if exists audit_pending_seal on slotoptim_private.audit_pending;
create constraint trigger audit_pending_seal
  after insert on slotoptim_private.audit_pending
  deferrable initially deferred
  for each row when (new.seals)
  execute function slotoptim_private.audit_seal();

-- What is audited, column by column: per table, one capture function and three statement-level
-- triggers (insert, update, delete) with transition tables. A statement's audited changes become
-- audit_pending rows in one insert (an update only where an audited column changed: a no-show
-- score or an offer counter is not an audit event), with the values of an allow-list of columns
-- (slotoptim_private.audit_values) and the actor of slotoptim.actor, read when the statement ends;
-- the commit chains them (audit_seal). A linked calendar's busy time (appointments with source
-- external: no customer, no service, nothing clinical, and thousands of rows per sync) is not
-- audited; the link itself (external_connection) is. Security definer: the application role has
-- no privilege on the audit tables, and must not need one.
do $$
declare
  v_spec record;
  v_args text;
  v_key text[];
  v_join text;
  v_entity text;
  v_skip_new text;
  v_skip_old text;
  v_columns text;
  v_old_trigger text;
begin
  for v_spec in
    select s.tbl, s.cols
      from (values
        ('appointment', array['id', 'provider_id', 'service_id', 'customer_id', 'period', 'status', 'source',
                              'cancelled_at']),
        ('offer', array['id', 'campaign_id', 'gap_id', 'waitlist_entry_id', 'customer_id', 'service_id', 'slot',
                        'channel', 'status', 'appointment_id', 'price_cents', 'currency']),
        ('offer_campaign', array['id', 'gap_id', 'strategy', 'status', 'wave', 'status_reason']),
        ('customer', array['id', 'consent_sms', 'consent_whatsapp', 'consent_email', 'opted_out_at']),
        ('waitlist_entry', array['id', 'customer_id', 'status', 'service_ids', 'provider_ids',
                                 'excluded_provider_ids']),
        ('organisation_settings', array['*']),
        ('learning_settings', array['*']),
        ('buffer_rule', array['*']),
        ('cascade_wave', array['*']),
        ('pricing_policy', array['*']),
        ('message_experiment', array['*']),
        -- Who linked which calendar and when it broke; the sealed secret and the sync counters never.
        ('external_connection', array['id', 'provider_id', 'purpose', 'kind', 'config', 'state']),
        -- Payments (issue 13): each decision, policy change, charge and waiver; ids and amounts only.
        ('payment_policy', array['*']),
        ('payment_decision', array['id', 'customer_id', 'service_id', 'slot', 'offer_id', 'appointment_id',
                                   'requirement', 'amount_minor', 'rule', 'explanation']),
        ('payment_charge', array['id', 'appointment_id', 'customer_id', 'kind', 'amount_minor', 'status',
                                 'payment_intent', 'error_code', 'decline_code', 'waived_by', 'waive_reason',
                                 'refunded_minor', 'disputed'])
      ) as s(tbl, cols)
     where pg_catalog.to_regclass('slotoptim_private.' || s.tbl) is not null
  loop
    -- The per-row triggers this replaces (issue 18).
    foreach v_old_trigger in array array['_audit_mark', '_audit_mark_update', '_audit', '_audit_update'] loop
      execute format('drop trigger if exists %I on slotoptim_private.%I', v_spec.tbl || v_old_trigger, v_spec.tbl);
    end loop;

    v_args := format('%L::text[]', v_spec.cols);
    -- An update's old and new rows are paired by the primary key.
    select array_agg(a.attname::text order by k.ord) into v_key
      from pg_catalog.pg_index as i
      cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
      join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
     where i.indrelid = ('slotoptim_private.' || v_spec.tbl)::regclass and i.indisprimary;
    select string_agg(format('o.%1$I = n.%1$I', c), ' and ') into v_join from unnest(v_key) as c;
    select string_agg(a.attname::text, ',') into v_columns
      from pg_catalog.pg_attribute as a
     where a.attrelid = ('slotoptim_private.' || v_spec.tbl)::regclass and a.attnum > 0 and not a.attisdropped;
    v_entity := case
                  when ',' || v_columns || ',' like '%,id,%' then '%1$s.id'
                  when v_spec.tbl = 'cascade_wave' then '%1$s.wave::bigint'
                  else '%1$s.org_id'
                end;
    v_skip_new := case when v_spec.tbl = 'appointment' then ' and n.source is distinct from ''external''' else '' end;
    v_skip_old := case when v_spec.tbl = 'appointment' then ' and o.source is distinct from ''external''' else '' end;

    execute format($f$
      create or replace function slotoptim_private.%1$I()
      returns trigger
      language plpgsql
      security definer
      set search_path = ''
      -- The planner takes a transition table for one row: an update's join of old and new rows
      -- would run as a nested loop, quadratic in a statement's rows (a wave updates thousands).
      set enable_nestloop = off
      as $body$
      declare
        v_mark boolean := pg_catalog.current_setting('slotoptim.audit_unsealed', true) is distinct from 'on';
        v_count bigint;
      begin
        -- Marked before the insert: under SET CONSTRAINTS ALL IMMEDIATE the seal runs at the end of
        -- the insert itself, and clears the mark again.
        if v_mark then
          perform pg_catalog.set_config('slotoptim.audit_unsealed', 'on', true);
        end if;
        if tg_op = 'INSERT' then
          insert into slotoptim_private.audit_pending (org_id, at, actor_kind, actor_id, actor_address, entity, entity_id,
                                                       action, old_values, new_values, seals)
          select n.org_id, pg_catalog.now(), (select slotoptim_private.audit_actor()) ->> 'kind',
                 (select slotoptim_private.audit_actor()) ->> 'id', (select slotoptim_private.audit_actor()) ->> 'address',
                 %2$L, %3$s, 'insert', null, slotoptim_private.audit_values(pg_catalog.to_jsonb(n), %4$s),
                 v_mark and pg_catalog.row_number() over () = 1
            from new_rows as n
           where true%5$s;
        elsif tg_op = 'UPDATE' then
          insert into slotoptim_private.audit_pending (org_id, at, actor_kind, actor_id, actor_address, entity, entity_id,
                                                       action, old_values, new_values, seals)
          select n.org_id, pg_catalog.now(), (select slotoptim_private.audit_actor()) ->> 'kind',
                 (select slotoptim_private.audit_actor()) ->> 'id', (select slotoptim_private.audit_actor()) ->> 'address',
                 %2$L, %3$s, 'update', v.old_values, v.new_values, v_mark and pg_catalog.row_number() over () = 1
            from old_rows as o
            join new_rows as n on %6$s
            cross join lateral (
              select slotoptim_private.audit_values(pg_catalog.to_jsonb(o), %4$s) as old_values,
                     slotoptim_private.audit_values(pg_catalog.to_jsonb(n), %4$s) as new_values) as v
           where v.old_values is distinct from v.new_values%5$s;
        else
          insert into slotoptim_private.audit_pending (org_id, at, actor_kind, actor_id, actor_address, entity, entity_id,
                                                       action, old_values, new_values, seals)
          select o.org_id, pg_catalog.now(), (select slotoptim_private.audit_actor()) ->> 'kind',
                 (select slotoptim_private.audit_actor()) ->> 'id', (select slotoptim_private.audit_actor()) ->> 'address',
                 %2$L, %7$s, 'delete', slotoptim_private.audit_values(pg_catalog.to_jsonb(o), %4$s), null,
                 v_mark and pg_catalog.row_number() over () = 1
            from old_rows as o
           where true%8$s;
        end if;
        get diagnostics v_count = row_count;
        if v_count = 0 and v_mark then
          perform pg_catalog.set_config('slotoptim.audit_unsealed', '', true);
        end if;
        return null;
      end;
      $body$
    $f$, 'audit_capture_' || v_spec.tbl, v_spec.tbl, format(v_entity, 'n'), v_args, v_skip_new, v_join,
       format(v_entity, 'o'), v_skip_old);

    execute format(
      'create or replace trigger %I after insert on slotoptim_private.%I referencing new table as new_rows'
      ' for each statement execute function slotoptim_private.%I()',
      v_spec.tbl || '_audit_capture_insert', v_spec.tbl, 'audit_capture_' || v_spec.tbl);
    execute format(
      'create or replace trigger %I after update on slotoptim_private.%I'
      ' referencing old table as old_rows new table as new_rows'
      ' for each statement execute function slotoptim_private.%I()',
      v_spec.tbl || '_audit_capture_update', v_spec.tbl, 'audit_capture_' || v_spec.tbl);
    execute format(
      'create or replace trigger %I after delete on slotoptim_private.%I referencing old table as old_rows'
      ' for each statement execute function slotoptim_private.%I()',
      v_spec.tbl || '_audit_capture_delete', v_spec.tbl, 'audit_capture_' || v_spec.tbl);
  end loop;
end;
$$;

-- The per-row writers the capture and the seal replace (issue 18).
drop function if exists slotoptim_private.audit_row();
drop function if exists slotoptim_private.audit_mark();
drop function if exists slotoptim_private.lock_audit_chains();

-- Checks an organisation's chain from its first row: each row follows the previous one (seq),
-- carries its hash (prev_hash), and hashes to what it says; the head names the last row.
-- Returns the first row that breaks the chain, and why; nothing when the chain is intact.
create or replace function slotoptim.verify_audit_chain(org_key text)
returns table (id bigint, reason text)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_org bigint;
  v_head slotoptim_private.audit_chain;
  v_last slotoptim_private.audit_event;
begin
  select o.id into v_org from slotoptim_private.organisation as o where o.key = verify_audit_chain.org_key;
  if v_org is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown organisation %s', pg_catalog.quote_literal(verify_audit_chain.org_key));
  end if;

  return query
    with chain as (
      select e.id, e.seq, e.prev_hash, e.hash, slotoptim_private.audit_hash(e) as computed,
             lag(e.seq) over w as previous_seq, lag(e.hash) over w as previous_hash
        from slotoptim_private.audit_event as e
       where e.org_id = v_org
      window w as (order by e.seq)
    ), checked as (
      select c.id, c.seq,
             case
               when c.seq <> coalesce(c.previous_seq, 0) + 1
                 then format('rows %s to %s of the chain are missing before this one',
                             coalesce(c.previous_seq, 0) + 1, c.seq - 1)
               when c.prev_hash is distinct from c.previous_hash
                 then 'prev_hash is not the hash of the previous row'
               when c.hash <> c.computed
                 then 'hash does not match the row''s contents'
             end as reason
        from chain as c
    )
    select ck.id, ck.reason from checked as ck where ck.reason is not null order by ck.seq limit 1;
  if found then
    return;
  end if;

  select * into v_head from slotoptim_private.audit_chain as h where h.org_id = v_org;
  select * into v_last from slotoptim_private.audit_event as e where e.org_id = v_org order by e.seq desc limit 1;
  if coalesce(v_head.seq, 0) <> coalesce(v_last.seq, 0) or v_head.hash is distinct from v_last.hash then
    id := v_last.id;
    reason := format('the chain head (seq %s) does not match the last row (seq %s): rows removed from the end',
                     coalesce(v_head.seq, 0), coalesce(v_last.seq, 0));
    return next;
  end if;
end;
$$;

comment on function slotoptim.verify_audit_chain(text) is
  'Verifies an organisation''s audit hash chain; returns the first broken row and the reason, or nothing.';

-- The audit trail for analysts and the dashboard; row-level security shows a reader their
-- organisation's rows only.
create or replace view slotoptim.audit_trail with (security_invoker = true) as
select e.id,
       o.key as org_key,
       e.seq,
       e.at,
       e.actor_kind,
       e.actor_id,
       e.actor_address,
       e.entity,
       e.entity_id,
       e.action,
       e.old_values,
       e.new_values,
       pg_catalog.encode(e.hash, 'hex') as hash
  from slotoptim_private.audit_event as e
  left join slotoptim_private.organisation as o on o.id = e.org_id;

comment on view slotoptim.audit_trail is 'Every audited change (who, what, when), oldest first per organisation by seq.';
