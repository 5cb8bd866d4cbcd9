-- Request context: which organisation a session acts for, and what time it is.

-- The organisation of an analyst login (slotoptim.create_analyst_login), or null. Row-level
-- security confines analysts with this, never with a setting the session could change itself.
create or replace function slotoptim_private.analyst_org()
returns bigint
language sql
stable
parallel safe
return (select l.org_id from slotoptim_private.analyst_login as l where l.role_name = session_user);

-- The organisation a session acts for: the one set for this transaction or session
-- (set_config('slotoptim.org_id', ...)), else the analyst login's, else null (the owner: all).
-- Policies call it once per query as an init plan: `org_id = (select slotoptim_private.current_org())`.
create or replace function slotoptim_private.current_org()
returns bigint
language sql
stable
parallel safe
return coalesce(nullif(pg_catalog.current_setting('slotoptim.org_id', true), '')::bigint,
                slotoptim_private.analyst_org());

-- The organisation the calling session is confined to, for the few security definer readers that
-- bypass row-level security to stay fast (see slotoptim_private.free_time). It mirrors the
-- policies: an analyst login gets its own organisation whatever it sets; a session acting through
-- another role (SET ROLE slotoptim_app, as the API does) or logged in as anyone without the
-- owner's rights gets the organisation it named, or -1 (nothing) when it named none; the owner's
-- own sessions, which row-level security does not restrict either, get null: everything.
create or replace function slotoptim_private.caller_org()
returns bigint
language sql
stable
parallel safe
return case
  when slotoptim_private.analyst_org() is not null then slotoptim_private.analyst_org()
  when pg_catalog.current_setting('role') = 'none'
       and (pg_catalog.pg_has_role(session_user,
                                   (select c.relowner from pg_catalog.pg_class as c
                                     where c.oid = 'slotoptim_private.appointment'::pg_catalog.regclass),
                                   'USAGE')
            or (select r.rolbypassrls from pg_catalog.pg_roles as r where r.rolname = session_user))
    then null
  else coalesce(nullif(pg_catalog.current_setting('slotoptim.org_id', true), '')::bigint, -1)
end;

-- The clock triggers use. Functions take an explicit "at" argument; when they change rows whose
-- triggers need the time, they pass it on through the transaction-local setting slotoptim.clock,
-- so simulations and tests drive time without sleeping.
create or replace function slotoptim_private.clock()
returns timestamptz
language sql
stable
parallel safe
return coalesce(nullif(pg_catalog.current_setting('slotoptim.clock', true), '')::timestamptz, pg_catalog.now());

-- Sets the trigger clock to p_at for the rest of the transaction (null: back to now()) and returns
-- the previous setting, so a function can restore it when it is done.
create or replace function slotoptim_private.set_clock(p_at timestamptz)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_previous text := coalesce(pg_catalog.current_setting('slotoptim.clock', true), '');
begin
  perform pg_catalog.set_config('slotoptim.clock', coalesce(p_at::text, ''), true);
  return v_previous;
end;
$$;
