-- The audit trail: every change to appointments, offers (claims included), offer campaigns (starts,
-- waves, releases, expiries, with their status_reason), consent, waitlist entries and settings writes one slotoptim_private.audit_event row in the same transaction.
--
-- Who: the JSON in slotoptim.actor ({"kind": "api_key" | "user" | "system", "id": ..., "address": ...},
-- set transaction-locally by the API; absent means {"kind": "system"}). What: the entity, its id,
-- the action and the old and new values of an allow-list of columns (ids, statuses, times,
-- consent flags, settings; never names, contact details, message bodies or clinical notes).
-- When: the transaction's start, now().
--
-- Rows are written by deferred constraint triggers, that is at commit, and chained per
-- organisation: a transaction locks the chain heads of the organisations it changed (in id
-- order, so two transactions never deadlock on them) only once all its other work is done, which
-- keeps the serialisation point short: a claim holds its organisation's head for the few inserts
-- of its commit, not for the whole booking.

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

create or replace trigger audit_event_chain
  before insert on slotoptim_private.audit_event
  for each row execute function slotoptim_private.audit_event_chain();

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
  for each row execute function slotoptim_private.audit_event_head();

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

-- Immediate, while the change happens: remember the organisation, so that at commit the chain
-- heads of all of them are locked in one go, in id order.
create or replace function slotoptim_private.audit_mark()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_org text := (case when tg_op = 'DELETE' then old.org_id else new.org_id end)::text;
  v_marked text := coalesce(pg_catalog.current_setting('slotoptim.audit_orgs', true), '');
begin
  if pg_catalog.strpos(v_marked, ',' || v_org || ',') = 0 then
    perform pg_catalog.set_config('slotoptim.audit_orgs',
                                  case when v_marked = '' then ',' else v_marked end || v_org || ',', true);
  end if;
  return null;
end;
$$;

-- Locks the chain heads of every organisation this transaction changed, lowest id first. Runs
-- once, at the first audit row of the commit.
create or replace function slotoptim_private.lock_audit_chains()
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_orgs bigint[] := pg_catalog.string_to_array(
    pg_catalog.btrim(coalesce(pg_catalog.current_setting('slotoptim.audit_orgs', true), ''), ','), ',')::bigint[];
begin
  if coalesce(cardinality(v_orgs), 0) = 0 then
    return;
  end if;
  insert into slotoptim_private.audit_chain (org_id)
  select o from unnest(v_orgs) as o order by o
  on conflict (org_id) do nothing;
  perform 1 from slotoptim_private.audit_chain as h where h.org_id = any (v_orgs) order by h.org_id for update;
end;
$$;

-- Deferred, at commit: one audit row per change. Security definer: the application role has no
-- privilege on the audit tables, and must not need one.
create or replace function slotoptim_private.audit_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb;
  v_new jsonb;
  v_org bigint;
  v_entity_id bigint;
  v_setting text := nullif(pg_catalog.current_setting('slotoptim.actor', true), '');
  v_actor jsonb;
begin
  if tg_table_name = 'appointment' then
    -- A linked calendar's busy time: no customer, no service, nothing clinical, and thousands of
    -- rows per sync. The link itself (external_connection) is audited. (Nested: other tables
    -- have no source column, and this statement is only compiled when it runs.)
    if (case when tg_op = 'DELETE' then old.source else new.source end) = 'external' then
      return null;
    end if;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    v_old := slotoptim_private.audit_values(pg_catalog.to_jsonb(old), tg_argv);
    v_org := old.org_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new := slotoptim_private.audit_values(pg_catalog.to_jsonb(new), tg_argv);
    v_org := new.org_id;
  end if;
  if v_old = v_new then
    return null;
  end if;

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

  v_entity_id := coalesce(
    (coalesce(v_new, v_old) ->> 'id')::bigint,
    case tg_table_name when 'cascade_wave' then (coalesce(v_new, v_old) ->> 'wave')::bigint else v_org end);

  if pg_catalog.current_setting('slotoptim.audit_locked', true) is distinct from 'on' then
    perform pg_catalog.set_config('slotoptim.audit_locked', 'on', true);
    perform slotoptim_private.lock_audit_chains();
  end if;

  insert into slotoptim_private.audit_event (
    org_id, at, actor_kind, actor_id, actor_address, entity, entity_id, action, old_values, new_values)
  values (
    v_org, pg_catalog.now(), v_actor ->> 'kind', v_actor ->> 'id', v_actor ->> 'address', tg_table_name,
    v_entity_id, pg_catalog.lower(tg_op), v_old, v_new);
  return null;
end;
$$;

-- What is audited, column by column. Four triggers per table: an immediate one that marks the
-- organisation, and a deferred one that writes the row; for updates both fire only when an
-- audited column changed (a no-show score or an offer counter is not an audit event).
do $$
declare
  v_spec record;
  v_changed text;
  v_args text;
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
    if v_spec.cols = array['*'] then
      v_changed := 'old.* is distinct from new.*';
    else
      select format('(%s) is distinct from (%s)',
                    string_agg('old.' || quote_ident(c), ', '), string_agg('new.' || quote_ident(c), ', '))
        into v_changed
        from unnest(v_spec.cols) as c
       where c <> 'id';
    end if;
    select string_agg(quote_literal(c), ', ') into v_args from unnest(v_spec.cols) as c;

    execute format(
      'create or replace trigger %I after insert or delete on slotoptim_private.%I'
      ' for each row execute function slotoptim_private.audit_mark()',
      v_spec.tbl || '_audit_mark', v_spec.tbl);
    execute format(
      'create or replace trigger %I after update on slotoptim_private.%I'
      ' for each row when (%s) execute function slotoptim_private.audit_mark()',
      v_spec.tbl || '_audit_mark_update', v_spec.tbl, v_changed);
    -- Constraint triggers cannot be replaced in place.
    execute format('drop trigger if exists %I on slotoptim_private.%I', v_spec.tbl || '_audit', v_spec.tbl);
    execute format(
      'create constraint trigger %I after insert or delete on slotoptim_private.%I'
      ' deferrable initially deferred for each row execute function slotoptim_private.audit_row(%s)',
      v_spec.tbl || '_audit', v_spec.tbl, v_args);
    execute format('drop trigger if exists %I on slotoptim_private.%I', v_spec.tbl || '_audit_update', v_spec.tbl);
    execute format(
      'create constraint trigger %I after update on slotoptim_private.%I'
      ' deferrable initially deferred for each row when (%s) execute function slotoptim_private.audit_row(%s)',
      v_spec.tbl || '_audit_update', v_spec.tbl, v_changed, v_args);
  end loop;
end;
$$;

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
