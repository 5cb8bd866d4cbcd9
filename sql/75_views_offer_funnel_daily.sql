-- The offer funnel per organisation, local day (of the offer, in the organisation's time zone),
-- strategy and channel: slotoptim.offer_funnel with a date, so a period can be measured
-- (GET /v1/kpis?from=&to=). Same definitions as slotoptim.offer_funnel.
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
