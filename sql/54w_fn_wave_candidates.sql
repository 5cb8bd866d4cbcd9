-- The candidates of a gap for one wave of offers, shared by make_offers (sql/55_fn_offers.sql) and
-- the adaptive plan (sql/55n_fn_adaptive.sql), so the plan sizes its waves on exactly the
-- candidates make_offers then offers, in the same order.
--
-- Every candidate of the ranking comes back (the best p_k, or all of them when p_k is null), in
-- wave order (n: score, tier, last offered, added, entry), with `eligible` saying whether the wave
-- may offer it: its score reaches the wave's minimum, it is not email-only unless the wave allows
-- email or the slot is a day away, and its local send window opens early enough for the offer to
-- run its course before the slot starts. The ineligible ones stay in the result because
-- make_offers needs to know how many the bounded ranking returned (fewer than p_k: there are no
-- more) to decide whether to ask the ranking for more.
create or replace function slotoptim_private.wave_candidates(
  p_gap_id bigint,
  p_at timestamptz,
  p_k integer,
  p_min_score numeric,
  p_window interval,
  p_allow_email boolean
)
returns table (
  n bigint,
  eligible boolean,
  waitlist_entry_id bigint,
  customer_id bigint,
  service_id bigint,
  slot tstzrange,
  channel text,
  channel_is_email_only boolean,
  tier text,
  score numeric,
  time_points integer,
  provider_points integer,
  service_points integer,
  travel_points integer,
  lead_points integer,
  response_points integer,
  fairness_points integer,
  last_offered_at timestamptz,
  added_at timestamptz,
  customer_key text,
  phone text,
  email text,
  timezone text,
  send_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  with gap as (
    select g.id, o.timezone as org_tz, st.send_window_start, st.send_window_end
      from slotoptim_private.gap as g
      join slotoptim_private.organisation as o on o.id = g.org_id
      join slotoptim_private.organisation_settings as st on st.org_id = g.org_id
     where g.id = p_gap_id
  ), ranked as (
    select r.*, w.added_at, c.key as customer_key, c.phone, c.email, coalesce(c.timezone, gap.org_tz) as tz,
           slotoptim_private.next_send_time(p_at, coalesce(c.timezone, gap.org_tz), gap.send_window_start,
                                            gap.send_window_end) as send_at
      from gap
      cross join lateral slotoptim_private.rank_candidates(gap.id, p_at, p_k) as r
      join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id
      join slotoptim_private.customer as c on c.id = r.customer_id
  )
  select row_number() over (order by r.score desc, slotoptim_private.tier_rank(r.tier),
                                     r.last_offered_at asc nulls first, r.added_at, r.waitlist_entry_id),
         r.score >= p_min_score
           and (p_allow_email or not r.channel_is_email_only or lower(r.slot) - p_at >= interval '24 hours')
           and r.send_at + p_window <= lower(r.slot),
         r.waitlist_entry_id, r.customer_id, r.service_id, r.slot, r.channel, r.channel_is_email_only, r.tier,
         r.score, r.time_points, r.provider_points, r.service_points, r.travel_points, r.lead_points,
         r.response_points, r.fairness_points, r.last_offered_at, r.added_at, r.customer_key, r.phone, r.email,
         r.tz, r.send_at
    from ranked as r
   order by 1;
$$;
