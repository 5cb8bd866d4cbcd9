-- Frozen copy of sql/38_tables_templates.sql as of revision 0006. Never edit: add a migration.
-- Recommended weekly slot templates (`slotoptim optimize template --org KEY` writes them): how many
-- slots of each service a provider should offer in each local hour of each weekday. One run per
-- optimisation, with its objective and inputs; at most one active run per organisation, which
-- slotoptim.recommended_template shows and the booking side reads.

create table if not exists slotoptim_private.slot_template_run (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  generated_at timestamptz not null,
  -- The solver's verdict: 'optimal', or 'feasible' when it stopped at a node or time limit.
  status text not null
    constraint slot_template_run_status_known check (status in ('optimal', 'feasible')),
  -- Objective per week of the recommended and of the current template (total, waiting, no_show,
  -- unmet, preference), the proven gap, and the requests per week left unserved.
  objective jsonb not null,
  -- Where the inputs came from: demand source (forecast or booked history), duration and no-show
  -- sources per service, the history window, the solver settings.
  inputs jsonb not null,
  active boolean not null default true,
  unique (org_id, id)
);

comment on table slotoptim_private.slot_template_run is
  'One optimisation of an organisation''s weekly slot template: when, how good, from which inputs.';

create unique index if not exists slot_template_run_one_active
  on slotoptim_private.slot_template_run (org_id) where active;

-- The slots of a run. Weekday and hour are the provider's local wall-clock time (ISO weekday:
-- 1 = Monday .. 7 = Sunday), like working_hours.
create table if not exists slotoptim_private.slot_template (
  org_id bigint not null,
  run_id bigint not null,
  provider_id bigint not null,
  weekday smallint not null
    constraint slot_template_weekday_range check (weekday between 1 and 7),
  hour smallint not null
    constraint slot_template_hour_range check (hour between 0 and 23),
  service_id bigint not null,
  slots integer not null
    constraint slot_template_slots_positive check (slots >= 1),
  primary key (run_id, provider_id, weekday, hour, service_id),
  foreign key (org_id, run_id) references slotoptim_private.slot_template_run (org_id, id) on delete cascade,
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade
);

comment on table slotoptim_private.slot_template is
  'Slots per provider, local weekday, local hour and service of a template run.';

create index if not exists slot_template_provider_idx on slotoptim_private.slot_template (provider_id, weekday, hour);
