-- Message experiments (seed 002's A/B table): template variants per organisation, assigned to
-- customers deterministically, with a funnel per variant and a readout.

-- The variant a customer gets in an experiment: a hash of (experiment, customer) over the variants
-- in key order, so the same customer always reads the same wording, whatever the gap.
create or replace function slotoptim_private.experiment_variant(p_experiment_id bigint, p_customer_id bigint)
returns bigint
language sql
stable
set search_path = ''
as $$
  select v.id
    from (select mv.id, row_number() over (order by mv.key) - 1 as n, count(*) over () as variants
            from slotoptim_private.message_variant as mv
           where mv.experiment_id = p_experiment_id) as v
   where v.n = (pg_catalog.hashtextextended(p_experiment_id::text || ':' || p_customer_id::text, 16) & 2147483647)
               % v.variants;
$$;

-- Every offer made while an experiment runs carries the customer's variant.
create or replace function slotoptim_private.offer_assign_variant()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.variant_id is null then
    new.variant_id := (select slotoptim_private.experiment_variant(e.id, new.customer_id)
                         from slotoptim_private.message_experiment as e
                        where e.org_id = new.org_id and e.ended_at is null and e.started_at <= new.created_at);
  end if;
  return new;
end;
$$;

create or replace trigger offer_assign_variant
  before insert on slotoptim_private.offer
  for each row execute function slotoptim_private.offer_assign_variant();

-- The funnel per variant: offers whose message went out, then what their customers did.
create or replace view slotoptim.message_experiment_funnel with (security_invoker = true) as
select org.key as org_key,
       e.key as experiment_key,
       e.variable,
       v.key as variant_key,
       count(o.id) filter (where m.sent_at is not null)::integer as sent,
       count(o.id) filter (where m.sent_at is not null and o.clicked_at is not null)::integer as clicked,
       count(o.id) filter (where m.sent_at is not null and o.status in ('claimed', 'awaiting_approval'))::integer
         as claimed,
       count(o.id) filter (where m.sent_at is not null and o.status = 'declined')::integer as declined,
       count(o.id) filter (where m.sent_at is not null and o.status = 'expired')::integer as ignored
  from slotoptim_private.message_experiment as e
  join slotoptim_private.organisation as org on org.id = e.org_id
  join slotoptim_private.message_variant as v on v.experiment_id = e.id
  left join slotoptim_private.offer as o on o.variant_id = v.id
  left join lateral (select min(mm.sent_at) as sent_at from slotoptim_private.message as mm
                      where mm.offer_id = o.id and mm.kind = 'offer') as m on true
 group by org.key, e.key, e.variable, v.key;

comment on view slotoptim.message_experiment_funnel is
  'Per message experiment and template variant: offers sent, clicked, claimed, declined and ignored (expired unanswered).';
comment on column slotoptim.message_experiment_funnel.org_key is 'The organisation.';
comment on column slotoptim.message_experiment_funnel.experiment_key is 'The experiment.';
comment on column slotoptim.message_experiment_funnel.variable is 'What the variants differ in (wording, provider_name, deadline, personalisation, one_tap, other).';
comment on column slotoptim.message_experiment_funnel.variant_key is 'The template variant.';
comment on column slotoptim.message_experiment_funnel.sent is 'Offers of this variant whose message was sent.';
comment on column slotoptim.message_experiment_funnel.clicked is 'Of those, offers whose claim link was opened.';
comment on column slotoptim.message_experiment_funnel.claimed is 'Of those, offers claimed (booked or awaiting approval).';
comment on column slotoptim.message_experiment_funnel.declined is 'Of those, offers declined.';
comment on column slotoptim.message_experiment_funnel.ignored is 'Of those, offers that expired unanswered.';

-- The readout of an experiment: each variant's claim rate against the control (the first variant
-- by key), the difference with a 95 % confidence interval (two proportions, unpooled Wald:
-- d +- 1.96 sqrt(p1 q1 / n1 + p0 q0 / n0)), and a verdict. No winner is declared before
-- `min_sends` sends per variant (seed 002: 200), nor when the interval contains 0.
create or replace function slotoptim.experiment_readout(experiment_id bigint, min_sends integer default 200)
returns table (
  variant_key text,
  is_control boolean,
  sent integer,
  claimed integer,
  claim_rate real,
  difference real,
  ci95_low real,
  ci95_high real,
  verdict text
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_experiment slotoptim_private.message_experiment;
  v_fewest integer;
begin
  select * into v_experiment from slotoptim_private.message_experiment as e
   where e.id = experiment_readout.experiment_id
     and (slotoptim_private.current_org() is null or e.org_id = slotoptim_private.current_org());
  if v_experiment.id is null then
    raise exception using errcode = 'no_data_found',
      message = format('unknown experiment %s', experiment_readout.experiment_id);
  end if;
  if min_sends is null or min_sends < 1 then
    raise exception using errcode = 'invalid_parameter_value', message = 'min_sends must be >= 1';
  end if;
  select min(f.sent) into v_fewest
    from slotoptim.message_experiment_funnel as f
    join slotoptim_private.organisation as org on org.key = f.org_key and org.id = v_experiment.org_id
   where f.experiment_key = v_experiment.key;

  return query
  with funnel as (
    select f.variant_key, f.sent, f.claimed,
           f.claimed::float8 / nullif(f.sent, 0) as rate,
           row_number() over (order by f.variant_key) = 1 as control
      from slotoptim.message_experiment_funnel as f
      join slotoptim_private.organisation as org on org.key = f.org_key and org.id = v_experiment.org_id
     where f.experiment_key = v_experiment.key
  ), compared as (
    select f.*, f.rate - c.rate as diff,
           1.96 * sqrt(f.rate * (1 - f.rate) / nullif(f.sent, 0) + c.rate * (1 - c.rate) / nullif(c.sent, 0))
             as half
      from funnel as f
      cross join (select * from funnel where control) as c
  )
  select c.variant_key, c.control, c.sent, c.claimed, c.rate::real,
         case when not c.control then c.diff::real end,
         case when not c.control then (c.diff - c.half)::real end,
         case when not c.control then (c.diff + c.half)::real end,
         case
           when c.control then 'control'
           when coalesce(v_fewest, 0) < min_sends
             then format('no winner yet: %s sends in the smallest variant, %s needed per variant', coalesce(v_fewest, 0),
                         min_sends)
           when c.diff - c.half > 0 then 'better than control'
           when c.diff + c.half < 0 then 'worse than control'
           else 'no significant difference'
         end
    from compared as c
   order by c.variant_key;
end;
$$;

comment on function slotoptim.experiment_readout(bigint, integer) is
  'Claim rate per variant against the control with a 95 % interval of the difference; no winner below min_sends (200) sends per variant.';
