-- Tenant isolation: two roles and row-level security on every tenant table.
--
-- slotoptim_app: the web API. Each request transaction runs
--   select set_config('slotoptim.org_id', '<id>', true), set_config('slotoptim.actor', '<json>', true);
--   set local role slotoptim_app;
-- and from then on sees and writes only that organisation's rows (nothing when no organisation is set).
-- slotoptim_analyst: read-only group role of the analyst logins (slotoptim.create_analyst_login),
-- each confined to the organisation it was created for. It reads customers without their phone
-- numbers and email addresses; slotoptim_analyst_contact (granted to a login explicitly) adds them.
-- The service's own connections (listener, CLI, migrations) are the tables' owner, which
-- row-level security does not restrict: it is enabled, never forced.

-- Roles belong to the cluster, not the database: create them once, whatever already exists
-- (another database of the cluster may be creating them at this very moment).
do $$
declare
  v_role text;
begin
  foreach v_role in array array['slotoptim_app', 'slotoptim_analyst', 'slotoptim_analyst_contact'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      begin
        execute format('create role %I nologin', v_role);
      exception
        when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end;
$$;

-- A tenant table is any table of slotoptim_private with an org_id column (organisation itself
-- by its id), except the analyst mapping and the audit tables, which have their own policies (the
-- audit rows waiting for their commit, audit_pending, have none: only the owner reads them).
-- Looking them up instead of listing them means a table a later migration adds is covered the
-- next time the repeatable files run; tests/sql/row_level_security/every_tenant_table_is_isolated checks it.
create or replace function slotoptim_private.tenant_tables()
returns setof regclass
language sql
stable
set search_path = ''
as $$
  select c.oid::regclass
    from pg_catalog.pg_class as c
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
   where n.nspname = 'slotoptim_private'
     and c.relkind in ('r', 'p')
     and c.relname not in ('analyst_login', 'audit_event', 'audit_chain', 'audit_pending')
     and (c.relname = 'organisation'
          or exists (select 1 from pg_catalog.pg_attribute as a
                      where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped))
   order by c.relname;
$$;

-- Policies compare org_id with an init plan, `(select ...)`: the function runs once per query,
-- not once per row, and the comparison can use the indexes that lead with org_id.
do $$
declare
  v_table regclass;
  v_column text;
begin
  for v_table in select * from slotoptim_private.tenant_tables() loop
    v_column := case when v_table = 'slotoptim_private.organisation'::regclass then 'id' else 'org_id' end;
    execute format('alter table %s enable row level security', v_table);
    execute format('drop policy if exists app_tenant on %s', v_table);
    execute format(
      'create policy app_tenant on %1$s for all to slotoptim_app'
      ' using (%2$I = (select slotoptim_private.current_org()))'
      ' with check (%2$I = (select slotoptim_private.current_org()))',
      v_table, v_column);
    execute format('drop policy if exists analyst_tenant on %s', v_table);
    execute format(
      'create policy analyst_tenant on %1$s for select to slotoptim_analyst'
      ' using (%2$I = (select slotoptim_private.analyst_org()))',
      v_table, v_column);
  end loop;
end;
$$;

-- The audit trail: each role reads its organisation's rows; nobody but the owner writes them
-- (the audit trigger function is security definer).
alter table slotoptim_private.audit_event enable row level security;
drop policy if exists app_tenant on slotoptim_private.audit_event;
create policy app_tenant on slotoptim_private.audit_event for select to slotoptim_app
  using (org_id = (select slotoptim_private.current_org()));
drop policy if exists analyst_tenant on slotoptim_private.audit_event;
create policy analyst_tenant on slotoptim_private.audit_event for select to slotoptim_analyst
  using (org_id = (select slotoptim_private.analyst_org()));

-- Audit rows waiting for their transaction's commit (audit_seal): no policy, so nobody but the
-- owner (the capture and seal triggers are security definer) reads or writes them.
alter table slotoptim_private.audit_pending enable row level security;

alter table slotoptim_private.audit_chain enable row level security;
drop policy if exists app_tenant on slotoptim_private.audit_chain;
create policy app_tenant on slotoptim_private.audit_chain for select to slotoptim_app
  using (org_id = (select slotoptim_private.current_org()));
drop policy if exists analyst_tenant on slotoptim_private.audit_chain;
create policy analyst_tenant on slotoptim_private.audit_chain for select to slotoptim_analyst
  using (org_id = (select slotoptim_private.analyst_org()));

-- An analyst login may read its own mapping (slotoptim_private.analyst_org does), no other.
alter table slotoptim_private.analyst_login enable row level security;
drop policy if exists own_login on slotoptim_private.analyst_login;
create policy own_login on slotoptim_private.analyst_login for select to slotoptim_app, slotoptim_analyst
  using (role_name = session_user);

-- A login for one analyst of one organisation: a LOGIN role, member of slotoptim_analyst, mapped
-- to the organisation in slotoptim_private.analyst_login. Owner only (security definer, no grant).
-- The password may be given as a SCRAM-SHA-256 verifier instead of clear text, so that it never
-- appears in a statement log.
create or replace function slotoptim.create_analyst_login(org_key text, login text, password text)
returns name
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_org bigint;
begin
  select o.id into v_org from slotoptim_private.organisation as o where o.key = create_analyst_login.org_key;
  if v_org is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown organisation %s', pg_catalog.quote_literal(create_analyst_login.org_key));
  end if;
  if create_analyst_login.login is null or create_analyst_login.login !~ '^[a-z_][a-z0-9_]{2,62}$' then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'login must be 3 to 63 lowercase letters, digits or underscores, not starting with a digit';
  end if;
  if create_analyst_login.login ~ '^(pg_|slotoptim_)' then
    raise exception using errcode = 'reserved_name',
      message = format('login %s uses a reserved prefix (pg_, slotoptim_)', create_analyst_login.login);
  end if;
  if coalesce(length(create_analyst_login.password), 0) < 12 then
    raise exception using errcode = 'invalid_parameter_value', message = 'password must be at least 12 characters';
  end if;
  execute format('create role %I login password %L in role slotoptim_analyst',
                 create_analyst_login.login, create_analyst_login.password);
  insert into slotoptim_private.analyst_login (role_name, org_id) values (create_analyst_login.login, v_org);
  return create_analyst_login.login::name;
end;
$$;

comment on function slotoptim.create_analyst_login(text, text, text) is
  'Creates a read-only LOGIN role for one organisation''s analyst (member of slotoptim_analyst). Owner only.';

-- Removes an analyst login made by create_analyst_login (the role and its mapping).
create or replace function slotoptim.drop_analyst_login(login text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  delete from slotoptim_private.analyst_login as l where l.role_name = drop_analyst_login.login;
  if not found then
    raise exception using errcode = 'no_data_found',
      message = format('%s is not an analyst login of this database', pg_catalog.quote_literal(drop_analyst_login.login));
  end if;
  execute format('drop role %I', drop_analyst_login.login);
end;
$$;

comment on function slotoptim.drop_analyst_login(text) is 'Drops an analyst login and its organisation mapping. Owner only.';
