-- Bounded candidate ranking (issue 18): the services each active waitlist entry wants, one row per
-- (entry, service), with the entry's static score parts, so that the ranking walks only the entries
-- wanting a service compatible with the gap, in index order of an upper bound of their score.
-- Kept in sync with waitlist_entry by statement triggers (sql/61q_trg_waitlist_want.sql) and with
-- the organisation's weights (static_points) by a trigger on organisation_settings.
create table if not exists slotoptim_private.waitlist_want (
  org_id bigint not null,
  service_id bigint not null,
  waitlist_entry_id bigint not null,
  customer_id bigint not null,
  added_at timestamptz not null,
  -- slotoptim_private.tier_rank(tier): 1 platinum .. 4 standard.
  tier_rank smallint not null,
  -- The travel and responsiveness points of the score (they depend on the entry alone).
  travel_points smallint not null,
  response_points smallint not null,
  -- weight_travel * travel_points + weight_response * response_points with the organisation's weights.
  static_points integer not null,
  -- A move-up enrolment (its score also weighs "earlier").
  moveup boolean not null,
  -- Led by org_id as every tenant key is (the tables are distributable by organisation).
  primary key (org_id, waitlist_entry_id, service_id)
);

-- The two orders the ranking walks: best static parts first, and longest wait first; with what the
-- bound of an entry needs (tier and move-up too), so that the walk reads the index alone.
create index if not exists waitlist_want_static_idx
  on slotoptim_private.waitlist_want (org_id, service_id, static_points desc, added_at, waitlist_entry_id)
  include (tier_rank, moveup);
create index if not exists waitlist_want_age_idx
  on slotoptim_private.waitlist_want (org_id, service_id, added_at, waitlist_entry_id)
  include (static_points, tier_rank, moveup);
create index if not exists waitlist_want_moveup_idx
  on slotoptim_private.waitlist_want (org_id, service_id) where moveup;


comment on table slotoptim_private.waitlist_want is
  'The services each active waitlist entry wants, with its static score parts (maintained by triggers; '
  'the bounded ranking walks it).';

-- Entries that were active before the table existed (the triggers keep it from then on).
insert into slotoptim_private.waitlist_want (org_id, service_id, waitlist_entry_id, customer_id, added_at, tier_rank,
                                             travel_points, response_points, static_points, moveup)
select w.org_id, s.service_id, w.id, w.customer_id, w.added_at,
       case w.tier when 'platinum' then 1 when 'gold' then 2 when 'silver' then 3 else 4 end,
       p.travel_points, p.response_points,
       coalesce(st.weight_travel, 0) * p.travel_points + coalesce(st.weight_response, 0) * p.response_points,
       w.moveup_appointment_id is not null
  from slotoptim_private.waitlist_entry as w
  cross join lateral (select distinct x as service_id from unnest(w.service_ids) as x) as s
  cross join lateral (
    select case when w.travel_minutes is null then 100
                else greatest(0, round(100 * (1 - w.travel_minutes::numeric
                                              / greatest(coalesce(w.max_travel_minutes, 60), 1))))
           end::smallint as travel_points,
           case when w.offers_received = 0 then 70
                else round(100.0 * w.offers_accepted / w.offers_received) end::smallint as response_points
  ) as p
  left join slotoptim_private.organisation_settings as st on st.org_id = w.org_id
 where w.status = 'active'
on conflict do nothing;

-- Statistics at once: the walk's index scans are chosen on them (without, the planner guessed a
-- handful of rows and sorted them all).
analyze slotoptim_private.waitlist_want;
