-- JIT compilation off for this database. The planner's costs for the set-returning functions
-- (1,000 rows assumed per call, nested) pass the JIT thresholds although the queries touch a few
-- dozen rows: on PostgreSQL 15 with LLVM, slotoptim.candidate_exclusions spent 50 s compiling
-- (943 functions) to run in milliseconds. SlotOptim's queries are short; JIT never pays.
-- (The RDS parameter group sets jit = 0 as well, infra/cdk/stacks/database.py.) Sessions may
-- still turn it on. Only the database's owner may set this; anyone else is told what to do.
do $$
begin
  if pg_catalog.pg_has_role(current_user,
       (select d.datdba from pg_catalog.pg_database as d where d.datname = pg_catalog.current_database()), 'MEMBER')
  then
    execute format('alter database %I set jit = off', pg_catalog.current_database());
  else
    raise notice 'jit is left as the server sets it: the database owner should run ALTER DATABASE % SET jit = off',
      pg_catalog.current_database();
  end if;
end
$$;
