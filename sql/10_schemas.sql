-- slotoptim_private holds the tables; nobody outside the service touches them directly.
-- slotoptim is the public surface for DBAs and analysts: functions and views only.
create schema if not exists slotoptim_private;
create schema if not exists slotoptim;

comment on schema slotoptim_private is 'SlotOptim tables and internal functions; not a public interface.';
comment on schema slotoptim is 'SlotOptim public SQL surface: functions and views for DBAs, analysts and the service.';
