-- Frozen copy of sql/35_tables_learning.sql as of revision 0003. Never edit: add a migration.
-- Learning from the calendar: per-organisation knobs, trained model versions, demand forecasts and
-- learned buffers. The Python jobs (ml/) write the last three; SQL functions and views read them.

create table if not exists slotoptim_private.learning_settings (
  org_id bigint primary key references slotoptim_private.organisation (id) on delete cascade,
  -- Upcoming appointments whose no_show_risk is at or above this appear in slotoptim.high_risk_slots.
  high_risk_threshold real not null default 0.3
    constraint learning_high_risk_range check (high_risk_threshold between 0 and 1),
  -- Overbooking is suggested for a provider's day only when its expected no-shows (the sum of the
  -- risks) exceed this (the PRD's "aggregate risk score exceeds a safety threshold").
  overbooking_safety real not null default 1.0
    constraint learning_overbooking_safety_nonnegative check (overbooking_safety >= 0),
  -- What a minute of provider overtime and a minute of patient waiting cost, in idle provider minutes.
  overtime_cost_ratio real not null default 1.5
    constraint learning_overtime_cost_nonnegative check (overtime_cost_ratio >= 0),
  waiting_cost_ratio real not null default 0.2
    constraint learning_waiting_cost_nonnegative check (waiting_cost_ratio >= 0),
  -- Learned buffers: the overrun quantile they cover and their cap (minutes).
  buffer_quantile real not null default 0.8
    constraint learning_buffer_quantile_range check (buffer_quantile > 0 and buffer_quantile < 1),
  buffer_max_minutes integer not null default 30
    constraint learning_buffer_max_range check (buffer_max_minutes between 0 and 480),
  -- Off: slotoptim_private.buffer_after() ignores learned buffers (the service default applies).
  use_learned_buffers boolean not null default false,
  -- Labelled appointments a practice needs before it gets its own no-show model (else the Kaggle one).
  min_practice_rows integer not null default 200
    constraint learning_min_rows_range check (min_practice_rows >= 20)
);

comment on table slotoptim_private.learning_settings is 'Per-organisation knobs of the learning jobs (risk threshold, overbooking costs, buffers).';

-- Organisations that existed before this table get their defaults.
insert into slotoptim_private.learning_settings (org_id)
select o.id from slotoptim_private.organisation as o
on conflict (org_id) do nothing;

-- Trained models, versioned per organisation and kind. The artifact (the model itself) lives here
-- too, so every process that scores reads the same model whatever machine it runs on.
create table if not exists slotoptim_private.model_version (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  kind text not null
    constraint model_version_kind_known check (kind in ('noshow', 'forecast', 'buffers')),
  version text not null
    constraint model_version_version_format check (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  trained_at timestamptz not null,
  -- Self-contained description: source, training window, features, parameters, metrics.
  metadata jsonb not null,
  artifact bytea,
  active boolean not null default false,
  unique (org_id, kind, version)
);

create unique index if not exists model_version_one_active
  on slotoptim_private.model_version (org_id, kind) where active;

-- The current demand forecast of each organisation (a new run replaces it): expected appointments
-- per provider and local day, per service (service_id set) or all services (null), for the whole
-- day (hour null) or one local hour starting at `hour`.
create table if not exists slotoptim_private.demand_forecast (
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  provider_id bigint not null,
  service_id bigint,
  day date not null,
  hour smallint
    constraint demand_forecast_hour_range check (hour between 0 and 23),
  expected numeric(10, 3) not null
    constraint demand_forecast_expected_nonnegative check (expected >= 0),
  method text not null,
  generated_at timestamptz not null,
  model_version text not null,
  constraint demand_forecast_one_row unique nulls not distinct (org_id, provider_id, service_id, day, hour),
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade
);

-- Buffers learned from how long appointments really ran: one row per service (provider_id null)
-- and per provider within it. slotoptim_private.buffer_after() reads them when the organisation
-- has use_learned_buffers on. A new run replaces the organisation's rows.
create table if not exists slotoptim_private.learned_buffer (
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  service_id bigint not null,
  provider_id bigint,
  minutes integer not null
    constraint learned_buffer_minutes_range check (minutes between 0 and 480),
  quantile real not null
    constraint learned_buffer_quantile_range check (quantile > 0 and quantile < 1),
  -- The estimated overrun quantile before rounding up and capping (minutes; may be negative).
  overrun_minutes real not null,
  n integer not null
    constraint learned_buffer_rows_positive check (n >= 1),
  computed_at timestamptz not null,
  constraint learned_buffer_one_row unique nulls not distinct (org_id, service_id, provider_id),
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade,
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade
);
