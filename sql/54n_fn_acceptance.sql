-- The acceptance model: the probability that a customer accepts an offer within its window.
--
-- Prior (new organisations, new customers): seed 002's channel acceptance rate (sms 34 %,
-- whatsapp 31 %, email 12 %) times its send-window response rate relative to the daytime average
-- (0.30): 08-10 h 38 %, 12-14 h 19 %, 21-06 h 8 %... in the customer's zone.
-- Learning: multiplicative factors (organisation, channel, send window, weekday, lead time, tier,
-- customer), fitted one after the other on the offers resolved before the training cut-off. Each is
-- a gamma-Poisson shrunk ratio (observed accepts + k) / (expected accepts + k), so a level with
-- little evidence stays near 1 (the prior) and a raw rate is never used as is: k = 10 for the
-- organisation-wide factors, 2 for a customer.

-- Seed 002's send window (local hour) of an offer, as a label.
create or replace function slotoptim_private.acceptance_send_window(p_local_hour integer)
returns text
language sql
immutable
parallel safe
return case
  when p_local_hour >= 6 and p_local_hour < 8 then '06-08'
  when p_local_hour >= 8 and p_local_hour < 10 then '08-10'
  when p_local_hour >= 10 and p_local_hour < 12 then '10-12'
  when p_local_hour >= 12 and p_local_hour < 14 then '12-14'
  when p_local_hour >= 14 and p_local_hour < 16 then '14-16'
  when p_local_hour >= 16 and p_local_hour < 18 then '16-18'
  when p_local_hour >= 18 and p_local_hour < 21 then '18-21'
  else '21-06'
end;

-- The lead time from sending to the slot, as a label.
create or replace function slotoptim_private.acceptance_lead_bucket(p_lead interval)
returns text
language sql
immutable
parallel safe
return case
  when p_lead < interval '2 hours' then '<2h'
  when p_lead < interval '24 hours' then '2-24h'
  when p_lead < interval '7 days' then '1-7d'
  else '>7d'
end;

-- Seed 002's prior for a channel and local send hour.
create or replace function slotoptim_private.acceptance_prior(p_channel text, p_local_hour integer)
returns real
language sql
immutable
parallel safe
return least(0.95, greatest(0.005,
  (case p_channel when 'sms' then 0.34 when 'whatsapp' then 0.31 when 'email' then 0.12 when 'push' then 0.28
                  when 'phone' then 0.41 else 0.30 end)
  * (case slotoptim_private.acceptance_send_window(p_local_hour)
       when '06-08' then 0.22 when '08-10' then 0.38 when '10-12' then 0.35 when '12-14' then 0.19
       when '14-16' then 0.29 when '16-18' then 0.33 when '18-21' then 0.26 else 0.08 end)
  / 0.30))::real;

-- The levels an offer falls in, for every factor of the model.
create or replace function slotoptim_private.acceptance_levels(
  p_customer_id bigint, p_channel text, p_send_at timestamptz, p_slot_start timestamptz, p_tier text, p_tz text
)
returns table (factor text, level text)
language sql
immutable
parallel safe
as $$
  values ('organisation', 'all'),
         ('channel', p_channel),
         ('send_window', slotoptim_private.acceptance_send_window(extract(hour from p_send_at at time zone p_tz)::integer)),
         ('weekday', extract(isodow from p_send_at at time zone p_tz)::integer::text),
         ('lead', slotoptim_private.acceptance_lead_bucket(p_slot_start - p_send_at)),
         ('tier', coalesce(p_tier, 'standard')),
         ('customer', p_customer_id::text);
$$;

-- The predicted acceptance of one offer under a model version (null: the prior alone).
create or replace function slotoptim_private.predict_acceptance(
  p_model_version_id bigint, p_customer_id bigint, p_channel text, p_send_at timestamptz,
  p_slot_start timestamptz, p_tier text, p_tz text
)
returns real
language sql
stable
parallel safe
set search_path = ''
as $$
  select least(0.99, greatest(0.001,
           slotoptim_private.acceptance_prior(p_channel, extract(hour from p_send_at at time zone p_tz)::integer)
           * coalesce((select exp(sum(ln(f.multiplier)))
                         from slotoptim_private.acceptance_levels(p_customer_id, p_channel, p_send_at, p_slot_start,
                                                                  p_tier, p_tz) as l
                         join slotoptim_private.acceptance_factor as f
                           on f.model_version_id = p_model_version_id and f.factor = l.factor
                          and f.level = l.level), 1.0)))::real;
$$;

-- The offers an acceptance model may learn from at a cut-off: sent before it and resolved by it
-- (accepted or declined by then, or expired by then). Offers retracted because someone else took
-- the slot say nothing about the customer and are left out; so is anything still open at the
-- cut-off, whatever happened later: no later outcome can leak into training.
create or replace function slotoptim_private.acceptance_examples(p_org_id bigint, p_from timestamptz, p_until timestamptz)
returns table (offer_id bigint, customer_id bigint, channel text, send_at timestamptz, slot_start timestamptz,
               tier text, tz text, accepted boolean)
language sql
stable
set search_path = ''
as $$
  select o.id, o.customer_id, o.channel, o.send_at, lower(o.slot), w.tier,
         coalesce(c.timezone, org.timezone),
         o.status in ('claimed', 'awaiting_approval')
    from slotoptim_private.offer as o
    join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id
    join slotoptim_private.customer as c on c.id = o.customer_id
    join slotoptim_private.organisation as org on org.id = o.org_id
   where o.org_id = p_org_id
     and o.send_at >= p_from
     and o.send_at < p_until
     and (   (o.status in ('claimed', 'awaiting_approval', 'declined') and o.responded_at <= p_until)
          or (o.status = 'expired' and o.expires_at <= p_until));
$$;

-- Trains a version of an organisation's acceptance model on what was known at `trained_until`,
-- makes it the active one, and returns its id.
create or replace function slotoptim.train_acceptance_model(
  org_id bigint, trained_until timestamptz, version text default null, history interval default interval '365 days'
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org bigint := train_acceptance_model.org_id;
  v_id bigint;
  v_examples integer;
  v_accepted integer;
  v_factor text;
  v_strength real;
begin
  if not exists (select 1 from slotoptim_private.organisation as o where o.id = v_org) then
    raise exception using errcode = 'no_data_found', message = format('unknown organisation %s', v_org);
  end if;
  if trained_until is null then
    raise exception using errcode = 'invalid_parameter_value', message = 'trained_until is required';
  end if;

  create temporary table acceptance_training on commit drop as
  select e.*, l.factor, l.level,
         slotoptim_private.acceptance_prior(e.channel, extract(hour from e.send_at at time zone e.tz)::integer)::float8
           as p
    from slotoptim_private.acceptance_examples(v_org, trained_until - history, trained_until) as e
    cross join lateral slotoptim_private.acceptance_levels(e.customer_id, e.channel, e.send_at, e.slot_start,
                                                          e.tier, e.tz) as l;
  select count(distinct t.offer_id), count(distinct t.offer_id) filter (where t.accepted)
    into v_examples, v_accepted
    from acceptance_training as t;

  update slotoptim_private.model_version as m set active = false
   where m.org_id = v_org and m.kind = 'acceptance' and m.active;
  insert into slotoptim_private.model_version (org_id, kind, version, trained_at, metadata, active)
  values (v_org, 'acceptance',
          coalesce(version, 'acceptance-' || to_char(trained_until at time zone 'UTC', 'YYYYMMDD"T"HH24MISS')),
          trained_until,
          pg_catalog.jsonb_build_object(
            'source', 'offer history', 'trained_until', trained_until, 'history', history::text,
            'examples', v_examples, 'accepted', v_accepted,
            'prior', 'seed 002 channel x send window',
            'factors', pg_catalog.jsonb_build_array('organisation', 'channel', 'send_window', 'weekday', 'lead',
                                                    'tier', 'customer'),
            'shrinkage', pg_catalog.jsonb_build_object('organisation_wide', 10, 'customer', 2)),
          true)
  returning id into v_id;

  -- One factor at a time: its multiplier is fitted against the prediction of those before it.
  foreach v_factor in array array['organisation', 'channel', 'send_window', 'weekday', 'lead', 'tier', 'customer']
  loop
    v_strength := case when v_factor = 'customer' then 2 else 10 end;
    insert into slotoptim_private.acceptance_factor (org_id, model_version_id, factor, level, observed, expected,
                                                     multiplier)
    select v_org, v_id, v_factor, t.level,
           count(*) filter (where t.accepted), sum(t.p),
           (count(*) filter (where t.accepted) + v_strength) / (sum(t.p) + v_strength)
      from acceptance_training as t
     where t.factor = v_factor
     group by t.level;
    update acceptance_training as t
       set p = least(0.99, t.p * f.multiplier)
      from acceptance_training as k
      join slotoptim_private.acceptance_factor as f
        on f.model_version_id = v_id and f.factor = v_factor and f.level = k.level
     where k.factor = v_factor and k.offer_id = t.offer_id;
  end loop;
  drop table acceptance_training;
  return v_id;
end;
$$;

comment on function slotoptim.train_acceptance_model(bigint, timestamptz, text, interval) is
  'Trains and activates a version of the organisation''s acceptance model on offers resolved before trained_until (seed 002 prior, shrunk factors).';

-- The active acceptance model of an organisation (null: none yet, the prior applies).
create or replace function slotoptim_private.active_acceptance_model(p_org_id bigint)
returns bigint
language sql
stable
set search_path = ''
return (select m.id from slotoptim_private.model_version as m
         where m.org_id = p_org_id and m.kind = 'acceptance' and m.active);

-- Each offer carries the acceptance predicted when it was made, and the model that predicted it.
create or replace function slotoptim_private.offer_fill_acceptance()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.p_accept is null then
    new.acceptance_model_version_id := slotoptim_private.active_acceptance_model(new.org_id);
    new.p_accept := slotoptim_private.predict_acceptance(
      new.acceptance_model_version_id, new.customer_id, new.channel, new.send_at, lower(new.slot),
      (select w.tier from slotoptim_private.waitlist_entry as w where w.id = new.waitlist_entry_id),
      (select coalesce(c.timezone, o.timezone)
         from slotoptim_private.customer as c
         join slotoptim_private.organisation as o on o.id = c.org_id
        where c.id = new.customer_id));
  end if;
  return new;
end;
$$;

create or replace trigger offer_fill_acceptance
  before insert on slotoptim_private.offer
  for each row execute function slotoptim_private.offer_fill_acceptance();

-- Predictions of a model version and of the prior alone for offers sent in [from, until), with
-- what happened: the input of the time-split evaluation (ml/acceptance).
create or replace function slotoptim.acceptance_predictions(
  model_version_id bigint, sent_from timestamptz, sent_until timestamptz
)
returns table (offer_id bigint, accepted boolean, p_model real, p_prior real)
language sql
stable
set search_path = ''
as $$
  select e.offer_id, e.accepted,
         slotoptim_private.predict_acceptance(acceptance_predictions.model_version_id, e.customer_id, e.channel,
                                              e.send_at, e.slot_start, e.tier, e.tz),
         slotoptim_private.predict_acceptance(null, e.customer_id, e.channel, e.send_at, e.slot_start, e.tier, e.tz)
    from slotoptim_private.model_version as m
    cross join lateral slotoptim_private.acceptance_examples(m.org_id, sent_from, 'infinity') as e
   where m.id = acceptance_predictions.model_version_id
     and e.send_at < sent_until
   order by e.offer_id;
$$;

comment on function slotoptim.acceptance_predictions(bigint, timestamptz, timestamptz) is
  'Model and prior-only acceptance predictions with outcomes for offers sent in a period (time-split evaluation).';
