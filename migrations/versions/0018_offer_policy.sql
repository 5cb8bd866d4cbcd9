-- Frozen copy of sql/39n_tables_offer_policy.sql as of revision 0018. Never edit: add a migration.
-- An offer policy that learns (issue 16): the adaptive strategy's targets, the acceptance model's
-- factors, what each offer was predicted and priced at, message experiments and last-minute pricing.

-- The adaptive strategy joins the known ones.
alter table slotoptim_private.organisation_settings
  drop constraint if exists settings_offer_strategy_known;
alter table slotoptim_private.organisation_settings
  add constraint settings_offer_strategy_known
    check (offer_strategy in ('sequential', 'broadcast', 'burst', 'cascade', 'staff_approval', 'adaptive'));
alter table slotoptim_private.offer_campaign
  drop constraint if exists campaign_strategy_known;
alter table slotoptim_private.offer_campaign
  add constraint campaign_strategy_known
    check (strategy in ('sequential', 'broadcast', 'burst', 'cascade', 'staff_approval', 'adaptive'));

alter table slotoptim_private.organisation_settings
  -- Adaptive: the probability of filling a gap within the horizon that each wave plan must reach.
  add column if not exists adaptive_fill_target numeric(4, 3) not null default 0.9
    constraint settings_adaptive_target_range check (adaptive_fill_target > 0 and adaptive_fill_target < 1),
  -- Adaptive: expected "yes, but it was gone" answers per fill that a wave may cause, at most.
  add column if not exists adaptive_max_late_claims numeric(5, 2) not null default 2
    constraint settings_adaptive_late_nonnegative check (adaptive_max_late_claims >= 0),
  add column if not exists adaptive_wave_window interval not null default interval '15 minutes'
    constraint settings_adaptive_window_positive check (adaptive_wave_window > interval '0'),
  -- The plan aims to fill within this much time (or by the deadline when that comes first).
  add column if not exists adaptive_horizon interval not null default interval '20 minutes'
    constraint settings_adaptive_horizon_positive check (adaptive_horizon > interval '0'),
  -- The latest useful notice: the deadline is the slot start minus this.
  add column if not exists adaptive_min_notice interval not null default interval '30 minutes'
    constraint settings_adaptive_notice_nonnegative check (adaptive_min_notice >= interval '0');

-- Adaptive: when the next wave goes even though the current one's offers are still open (by then
-- most of those who will answer have answered).
alter table slotoptim_private.offer_campaign
  add column if not exists next_wave_at timestamptz;

alter table slotoptim_private.model_version
  drop constraint if exists model_version_kind_known;
alter table slotoptim_private.model_version
  add constraint model_version_kind_known check (kind in ('noshow', 'forecast', 'buffers', 'acceptance'));

-- The acceptance model: multiplicative factors on seed 002's prior (channel x send window), each
-- shrunk towards 1 by the evidence behind it (observed accepts against expected ones).
create table if not exists slotoptim_private.acceptance_factor (
  org_id bigint not null,
  model_version_id bigint not null,
  factor text not null
    constraint acceptance_factor_known
      check (factor in ('organisation', 'channel', 'send_window', 'weekday', 'lead', 'tier', 'customer')),
  level text not null,
  observed integer not null
    constraint acceptance_factor_observed_nonnegative check (observed >= 0),
  expected real not null
    constraint acceptance_factor_expected_nonnegative check (expected >= 0),
  multiplier real not null
    constraint acceptance_factor_multiplier_positive check (multiplier > 0),
  primary key (org_id, model_version_id, factor, level),
  foreign key (org_id, model_version_id) references slotoptim_private.model_version (org_id, id) on delete cascade
);

-- Predictions look factors up by model version (the key leads with org_id for distribution).
create index if not exists acceptance_factor_lookup_idx
  on slotoptim_private.acceptance_factor (model_version_id, factor, level);

-- Message experiments: template variants per organisation, one running experiment at a time.
create table if not exists slotoptim_private.message_experiment (
  id bigint generated always as identity primary key,
  org_id bigint not null references slotoptim_private.organisation (id) on delete cascade,
  key text not null
    constraint message_experiment_key_format check (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  variable text not null
    constraint message_experiment_variable_known
      check (variable in ('wording', 'provider_name', 'deadline', 'personalisation', 'one_tap', 'other')),
  started_at timestamptz not null,
  ended_at timestamptz,
  constraint message_experiment_period check (ended_at is null or ended_at >= started_at),
  unique (org_id, id),
  unique (org_id, key)
);

create unique index if not exists message_experiment_one_running
  on slotoptim_private.message_experiment (org_id) where ended_at is null;

create table if not exists slotoptim_private.message_variant (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  experiment_id bigint not null,
  key text not null
    constraint message_variant_key_format check (key ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$'),
  -- The offer text; {org}, {when}, {provider}, {first_name}, {minutes} and {link} are filled in.
  template text not null
    constraint message_variant_template_link check (template like '%{link}%'),
  unique (org_id, id),
  unique (org_id, experiment_id, key),
  foreign key (org_id, experiment_id) references slotoptim_private.message_experiment (org_id, id) on delete cascade
);

-- Last-minute pricing (seed 003 section 5): optional, one policy per organisation.
create table if not exists slotoptim_private.pricing_policy (
  org_id bigint primary key references slotoptim_private.organisation (id) on delete cascade,
  enabled boolean not null default true,
  -- Slots starting within this many hours of the offer get the last-minute discount.
  last_minute_hours integer
    constraint pricing_last_minute_hours_positive check (last_minute_hours >= 1),
  last_minute_discount_pct numeric(5, 2) not null default 0
    constraint pricing_last_minute_range check (last_minute_discount_pct between 0 and 90),
  -- Discount per waitlist tier, e.g. {"platinum": 10, "gold": 7}.
  tier_discount_pct jsonb not null default '{}'
    constraint pricing_tier_discount_shape check (jsonb_typeof(tier_discount_pct) = 'object'),
  holiday_surge_pct numeric(5, 2) not null default 20
    constraint pricing_surge_range check (holiday_surge_pct between 0 and 200),
  -- Local dates of the organisation that are holidays.
  holidays date[] not null default '{}'
);

-- What each offer was predicted and priced at, fixed when it was made.
alter table slotoptim_private.offer
  add column if not exists p_accept real
    constraint offer_p_accept_range check (p_accept between 0 and 1),
  -- Null with p_accept set: the prior alone (no trained model yet).
  add column if not exists acceptance_model_version_id bigint,
  add column if not exists variant_id bigint,
  add column if not exists list_price_cents integer
    constraint offer_list_price_nonnegative check (list_price_cents >= 0),
  -- The price the customer pays if they claim (null: no pricing policy), in `currency`.
  add column if not exists price_cents integer
    constraint offer_price_nonnegative check (price_cents >= 0),
  add column if not exists currency text
    constraint offer_currency_format check (currency ~ '^[A-Z]{3}$'),
  add column if not exists price_rule text,
  add constraint offer_price_has_currency check (price_cents is null or currency is not null),
  add constraint offer_acceptance_model_fk foreign key (org_id, acceptance_model_version_id)
    references slotoptim_private.model_version (org_id, id) on delete set null (acceptance_model_version_id),
  add constraint offer_variant_fk foreign key (org_id, variant_id)
    references slotoptim_private.message_variant (org_id, id) on delete set null (variant_id);

create index if not exists offer_variant_idx on slotoptim_private.offer (variant_id) where variant_id is not null;
