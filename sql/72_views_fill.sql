-- Measures of the fill engine, for analysts and the dashboard.

-- Fill rate per freed interval. A freed interval is a bookable gap as the engine opened it for
-- time a provider got back (a cancellation, a reschedule, a no-show; merged with adjacent free
-- time): not a gap that was merged into a later one, and not a piece left over when a booking
-- took part of a gap (those carry split_from, and belong to the interval they were split from).
-- It is filled when an offer for it or for any of its pieces was claimed; minutes to fill run from
-- its opening to the first such booking. Per provider and local day of the interval's start.
-- Fragments (no service fits) are not counted.
create or replace view slotoptim.fill_kpis with (security_invoker = true) as
with freed as (
  select g.id, g.org_id, g.provider_id, (lower(g.during) at time zone p.timezone)::date as day, g.opened_at
    from slotoptim_private.gap as g
    join slotoptim_private.provider as p on p.id = g.provider_id
   where g.kind = 'bookable' and g.status <> 'merged' and g.split_from is null
), line as (
  -- Every gap of a freed interval: the interval itself and the pieces split from it.
  select f.id as freed_id, f.id as gap_id from freed as f
  union all
  select g.split_from, g.id from slotoptim_private.gap as g where g.split_from is not null
), per_interval as (
  select f.id, f.org_id, f.provider_id, f.day, f.opened_at,
         (select min(a.booked_at)
            from line as l
            join slotoptim_private.offer as o on o.gap_id = l.gap_id and o.status = 'claimed'
            join slotoptim_private.appointment as a on a.id = o.appointment_id
           where l.freed_id = f.id) as filled_at,
         (select count(*)
            from line as l
            join slotoptim_private.offer as o on o.gap_id = l.gap_id
           where l.freed_id = f.id) as offers
    from freed as f
)
select o.key as org_key,
       p.key as provider_key,
       pi.day,
       count(*)::integer as gaps_opened,
       count(pi.filled_at)::integer as gaps_filled,
       round(count(pi.filled_at)::numeric / nullif(count(*), 0), 3) as fill_rate,
       round((percentile_cont(0.5) within group (order by extract(epoch from pi.filled_at - pi.opened_at) / 60)
              filter (where pi.filled_at is not null))::numeric, 1) as median_minutes_to_fill,
       round(sum(pi.offers)::numeric / nullif(count(pi.filled_at), 0), 2) as offers_per_fill
  from per_interval as pi
  join slotoptim_private.organisation as o on o.id = pi.org_id
  join slotoptim_private.provider as p on p.id = pi.provider_id
 group by o.key, p.key, pi.day;

comment on view slotoptim.fill_kpis is
  'Fill rate per freed interval, per provider and local day: a freed interval is a bookable gap opened for time '
  'a provider got back (not one merged into a later gap, not a piece left over when a booking split a gap); it is '
  'filled when an offer for it or any of its pieces was claimed.';
comment on column slotoptim.fill_kpis.org_key is 'The organisation.';
comment on column slotoptim.fill_kpis.provider_key is 'The provider whose time was freed.';
comment on column slotoptim.fill_kpis.day is 'Local date (provider''s zone) where the freed interval starts.';
comment on column slotoptim.fill_kpis.gaps_opened is 'Freed intervals opened (pieces of a split gap are not counted).';
comment on column slotoptim.fill_kpis.gaps_filled is 'Freed intervals where an offer (for the interval or a piece of it) was claimed.';
comment on column slotoptim.fill_kpis.fill_rate is 'gaps_filled / gaps_opened.';
comment on column slotoptim.fill_kpis.median_minutes_to_fill is 'Median minutes from opening to the first booking through an offer, over filled intervals.';
comment on column slotoptim.fill_kpis.offers_per_fill is 'Offers made for the intervals and their pieces, per filled interval.';

-- The price of every appointment booked through an offer: money won back.
create or replace view slotoptim.revenue_recovered with (security_invoker = true) as
select o.key as org_key,
       p.key as provider_key,
       (lower(a.period) at time zone p.timezone)::date as day,
       count(*)::integer as appointments,
       -- What was charged: the price fixed on the offer (last-minute pricing), else the list price.
       sum(coalesce(ofr.price_cents / 100.0, s.price)) as revenue,
       o.currency
  from slotoptim_private.appointment as a
  join slotoptim_private.offer as ofr on ofr.appointment_id = a.id and ofr.status = 'claimed'
  join slotoptim_private.service as s on s.id = a.service_id
  join slotoptim_private.provider as p on p.id = a.provider_id
  join slotoptim_private.organisation as o on o.id = a.org_id
 where a.status <> 'cancelled'
 group by o.key, p.key, (lower(a.period) at time zone p.timezone)::date, o.currency;

-- The offer funnel per organisation, local day (of the offer, in the organisation's time zone),
-- strategy and channel: slotoptim.offer_funnel with a date, so a period can be measured
-- (GET /v1/kpis?from=&to=).
create or replace view slotoptim.offer_funnel_daily with (security_invoker = true) as
select o.key as org_key,
       (ofr.created_at at time zone o.timezone)::date as day,
       c.strategy,
       ofr.channel,
       count(*)::integer as offers,
       count(*) filter (where exists (select 1 from slotoptim_private.message as m
                                       where m.offer_id = ofr.id and m.kind = 'offer'
                                         and m.status in ('sent', 'delivered')))::integer as sent,
       count(*) filter (where exists (select 1 from slotoptim_private.message as m
                                       where m.offer_id = ofr.id and m.kind = 'offer'
                                         and m.status = 'delivered'))::integer as delivered,
       count(ofr.clicked_at)::integer as clicked,
       count(*) filter (where ofr.status = 'claimed')::integer as claimed,
       count(*) filter (where ofr.status = 'declined')::integer as declined,
       count(*) filter (where ofr.status = 'expired')::integer as expired,
       count(*) filter (where ofr.status = 'retracted')::integer as retracted
  from slotoptim_private.offer as ofr
  join slotoptim_private.offer_campaign as c on c.id = ofr.campaign_id
  join slotoptim_private.organisation as o on o.id = ofr.org_id
 group by o.key, (ofr.created_at at time zone o.timezone)::date, c.strategy, ofr.channel;

comment on view slotoptim.offer_funnel_daily is
  'Offers made, sent, delivered, clicked, claimed, declined, expired and retracted per local day, strategy and channel.';

-- The offer funnel per organisation, strategy and channel: the daily funnel summed over days.
create or replace view slotoptim.offer_funnel with (security_invoker = true) as
select f.org_key,
       f.strategy,
       f.channel,
       sum(f.offers)::integer as offers,
       sum(f.sent)::integer as sent,
       sum(f.delivered)::integer as delivered,
       sum(f.clicked)::integer as clicked,
       sum(f.claimed)::integer as claimed,
       sum(f.declined)::integer as declined,
       sum(f.expired)::integer as expired,
       sum(f.retracted)::integer as retracted
  from slotoptim.offer_funnel_daily as f
 group by f.org_key, f.strategy, f.channel;

-- Customers the engine is tiring: offers in the last 30 days, how many they ignored, and whether
-- the fatigue rule now keeps offers from them.
create or replace view slotoptim.notification_fatigue with (security_invoker = true) as
select o.key as org_key,
       c.key as customer_key,
       count(ofr.id) filter (where ofr.created_at > now() - interval '30 days')::integer as offers_30d,
       count(ofr.id) filter (where ofr.created_at > now() - interval '30 days' and ofr.status = 'expired')::integer
         as ignored_30d,
       round(count(ofr.id) filter (where ofr.created_at > now() - interval '30 days' and ofr.status = 'expired')::numeric
             / nullif(count(ofr.id) filter (where ofr.created_at > now() - interval '30 days'), 0), 3) as ignore_rate_30d,
       max(w.consecutive_ignored) as consecutive_ignored,
       max(w.consecutive_ignored) >= st.fatigue_ignored_limit as suppressed,
       c.opted_out_at is not null as opted_out
  from slotoptim_private.customer as c
  join slotoptim_private.organisation as o on o.id = c.org_id
  join slotoptim_private.organisation_settings as st on st.org_id = c.org_id
  join slotoptim_private.waitlist_entry as w on w.customer_id = c.id
  left join slotoptim_private.offer as ofr on ofr.customer_id = c.id
 group by o.key, c.key, st.fatigue_ignored_limit, c.opted_out_at;
