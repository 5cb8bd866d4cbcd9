-- Keeps slotoptim_private.waitlist_want (the wanted services of active entries, with their static
-- score parts) equal to what waitlist_entry says, in the same statement: every path that writes
-- entries (API, booking page, practice import, move-up enrolment, FHIR, offers and claims that
-- count responses, consent that pauses or resumes) goes through these triggers. Statement triggers
-- with transition tables: a bulk import pays one insert, not one per row.

-- The want rows of the given entries (their current state; only active ones have any).
create or replace function slotoptim_private.waitlist_want_rows(p_entry_ids bigint[])
returns setof slotoptim_private.waitlist_want
language sql
stable
set search_path = ''
as $$
  select w.org_id, s.service_id, w.id, w.customer_id, w.added_at, slotoptim_private.tier_rank(w.tier)::smallint,
         p.travel_points, p.response_points,
         coalesce(st.weight_travel, 0) * p.travel_points + coalesce(st.weight_response, 0) * p.response_points,
         w.moveup_appointment_id is not null
    from slotoptim_private.waitlist_entry as w
    cross join lateral (select distinct x as service_id from unnest(w.service_ids) as x) as s
    -- The same points as score_entries gives (travel, responsiveness).
    cross join lateral (
      select case when w.travel_minutes is null then 100
                  else greatest(0, round(100 * (1 - w.travel_minutes::numeric
                                                / greatest(coalesce(w.max_travel_minutes, 60), 1))))
             end::smallint as travel_points,
             case when w.offers_received = 0 then 70
                  else round(100.0 * w.offers_accepted / w.offers_received) end::smallint as response_points
    ) as p
    left join slotoptim_private.organisation_settings as st on st.org_id = w.org_id
   where w.id = any (p_entry_ids)
     and w.status = 'active';
$$;

comment on function slotoptim_private.waitlist_want_rows(bigint[]) is
  'The waitlist_want rows the given entries should have (none unless active).';

create or replace function slotoptim_private.waitlist_want_sync()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_ids bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(n.id) into v_ids from new_rows as n where n.status = 'active';
  elsif tg_op = 'DELETE' then
    select array_agg(o.id) into v_ids from old_rows as o where o.status = 'active';
  else
    -- Only entries whose wanted services or static score parts changed (an update of, say,
    -- consecutive_ignored or closes_at leaves their rows as they are). EXCEPT pairs the old and new
    -- rows by hashing: the planner takes a transition table for one row, and a join of the two
    -- would run as a nested loop, quadratic in a wave's thousands of updated entries.
    -- waitlist_want_rows keeps only the active ones.
    select array_agg(c.id) into v_ids
      from (select n.id, n.status, n.org_id, n.customer_id, n.service_ids, n.added_at, n.tier, n.travel_minutes,
                   n.max_travel_minutes, n.offers_received, n.offers_accepted, n.moveup_appointment_id
              from new_rows as n
            except
            select o.id, o.status, o.org_id, o.customer_id, o.service_ids, o.added_at, o.tier, o.travel_minutes,
                   o.max_travel_minutes, o.offers_received, o.offers_accepted, o.moveup_appointment_id
              from old_rows as o) as c;
  end if;
  if v_ids is null then
    return null;
  end if;
  -- By the primary key: the organisation the rows were kept under, and the entry; each old row
  -- probes the index (an array test per row, `= any (v_ids)`, would be quadratic again).
  if tg_op = 'DELETE' then
    delete from slotoptim_private.waitlist_want as ww
     using old_rows as o
     where o.status = 'active' and ww.org_id = o.org_id and ww.waitlist_entry_id = o.id;
  elsif tg_op = 'UPDATE' then
    -- The old versions of the changed entries (the ids of v_ids), paired by hashing as above.
    delete from slotoptim_private.waitlist_want as ww
     using (select o.id, o.status, o.org_id, o.customer_id, o.service_ids, o.added_at, o.tier, o.travel_minutes,
                   o.max_travel_minutes, o.offers_received, o.offers_accepted, o.moveup_appointment_id
              from old_rows as o
            except
            select n.id, n.status, n.org_id, n.customer_id, n.service_ids, n.added_at, n.tier, n.travel_minutes,
                   n.max_travel_minutes, n.offers_received, n.offers_accepted, n.moveup_appointment_id
              from new_rows as n) as gone
     where ww.org_id = gone.org_id and ww.waitlist_entry_id = gone.id;
  end if;
  if tg_op <> 'DELETE' then
    insert into slotoptim_private.waitlist_want
      select * from slotoptim_private.waitlist_want_rows(v_ids);
  end if;
  return null;
end;
$$;

comment on function slotoptim_private.waitlist_want_sync() is
  'Statement trigger: rewrites the waitlist_want rows of the inserted, updated or deleted waitlist entries.';

create or replace trigger waitlist_want_insert
  after insert on slotoptim_private.waitlist_entry
  referencing new table as new_rows
  for each statement execute function slotoptim_private.waitlist_want_sync();
create or replace trigger waitlist_want_update
  after update on slotoptim_private.waitlist_entry
  referencing old table as old_rows new table as new_rows
  for each statement execute function slotoptim_private.waitlist_want_sync();
create or replace trigger waitlist_want_delete
  after delete on slotoptim_private.waitlist_entry
  referencing old table as old_rows
  for each statement execute function slotoptim_private.waitlist_want_sync();

-- static_points weighs the entry's points with the organisation's weights: new weights, new sums.
create or replace function slotoptim_private.waitlist_want_reweigh()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update slotoptim_private.waitlist_want as ww
     set static_points = new.weight_travel * ww.travel_points + new.weight_response * ww.response_points
   where ww.org_id = new.org_id;
  return null;
end;
$$;

comment on function slotoptim_private.waitlist_want_reweigh() is
  'Trigger: recomputes the organisation''s waitlist_want.static_points when its travel or response weight changes.';

create or replace trigger waitlist_want_reweigh
  after update of weight_travel, weight_response on slotoptim_private.organisation_settings
  for each row
  when (old.weight_travel is distinct from new.weight_travel or old.weight_response is distinct from new.weight_response)
  execute function slotoptim_private.waitlist_want_reweigh();
