-- Privileges, applied last so that every function and view of the other files exists. Written to
-- be re-run: whatever an earlier run granted is granted again, nothing accumulates.
--
-- slotoptim_app (the web API, confined by row-level security to the organisation it names):
--   reads and writes the tenant tables, reads its audit rows, runs every function but the
--   owner-only ones.
-- slotoptim_analyst (read-only): the slotoptim views and read-only functions, and the reads those
--   need underneath (security_invoker views and security invoker functions run with the reader's
--   rights); row-level security limits every one of them to the analyst's organisation.
-- Nobody else gets anything: functions are not executable by PUBLIC.

revoke execute on all functions in schema slotoptim, slotoptim_private from public;
grant usage on schema slotoptim, slotoptim_private to slotoptim_app, slotoptim_analyst;

do $$
declare
  v_table regclass;
  v_columns text;
begin
  for v_table in select * from slotoptim_private.tenant_tables() loop
    if v_table = 'slotoptim_private.organisation'::regclass then
      -- Organisations are created and removed by the owner (slotoptim import), not by a tenant.
      execute format('grant select, update on %s to slotoptim_app', v_table);
    else
      execute format('grant select, insert, update, delete on %s to slotoptim_app', v_table);
    end if;

    if v_table in ('slotoptim_private.message'::regclass, 'slotoptim_private.external_connection'::regclass) then
      -- Analysts count messages; what was written and to which address is not theirs to read.
      -- Nor are a connection's sealed secrets, even as ciphertext.
      select string_agg(quote_ident(a.attname), ', ' order by a.attnum)
        into v_columns
        from pg_catalog.pg_attribute as a
       where a.attrelid = v_table and a.attnum > 0 and not a.attisdropped
         and a.attname not in ('body', 'to_address', 'secret', 'secret_key_id');
      execute format('revoke select on %s from slotoptim_analyst', v_table);
      execute format('grant select (%s) on %s to slotoptim_analyst', v_columns, v_table);
    else
      execute format('grant select on %s to slotoptim_analyst', v_table);
    end if;
  end loop;

  -- Identity sequences of the tenant tables (inserts need them; nextval is harmless).
  for v_table in
    select s.objid::regclass
      from pg_catalog.pg_depend as s
     where s.classid = 'pg_catalog.pg_class'::regclass
       and s.refobjid in (select * from slotoptim_private.tenant_tables())
       and s.deptype = 'i'
       and (select c.relkind from pg_catalog.pg_class as c where c.oid = s.objid) = 'S'
  loop
    execute format('grant usage, select on sequence %s to slotoptim_app', v_table);
  end loop;
end;
$$;

grant select on slotoptim_private.audit_event, slotoptim_private.audit_chain, slotoptim_private.analyst_login
  to slotoptim_app, slotoptim_analyst;
revoke insert, update, delete, truncate, references, trigger on slotoptim_private.audit_event,
  slotoptim_private.audit_chain, slotoptim_private.analyst_login from public, slotoptim_app, slotoptim_analyst;

-- The views.
grant select on all tables in schema slotoptim to slotoptim_app, slotoptim_analyst;

-- Functions: the application role runs them all but the owner-only ones; analysts run the
-- read-only ones (stable or immutable: PostgreSQL refuses writes inside them). A read-only
-- security definer function (free_time) must confine itself with slotoptim_private.caller_org().
grant execute on all functions in schema slotoptim, slotoptim_private to slotoptim_app;
revoke execute on function slotoptim.create_analyst_login(text, text, text), slotoptim.drop_analyst_login(text)
  from slotoptim_app;

do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure
      from pg_catalog.pg_proc as p
      join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
     where n.nspname in ('slotoptim', 'slotoptim_private')
       and p.prokind = 'f'
       and p.provolatile in ('s', 'i')
       and p.prorettype <> 'pg_catalog.trigger'::regtype
  loop
    execute format('grant execute on function %s to slotoptim_analyst', v_function);
  end loop;
end;
$$;
