-- Move-up offers: enrolment, the chain guards, the points for how much earlier, and the claim's
-- second half (cancel the held appointment, record the move). rank_candidates
-- (sql/54_fn_candidates.sql) treats an enrolment as a waitlist entry and calls
-- moveup_points and moveup_allowed; book_offer (sql/56_fn_claims.sql) calls moveup_complete
-- right after it inserted the new appointment, inside the claim's transaction.

-- The moves upstream of a gap: the gap's source appointment may be the one a move left, whose
-- gap may in turn have been freed by an earlier move, back to the cancellation that started it.
-- Returns the chain's first gap, how many moves precede a move into this gap, and the customers
-- already moved in it (none of them may be offered this gap: a chain never cycles).
create or replace function slotoptim_private.moveup_chain(p_gap_id bigint)
returns table (root_gap_id bigint, moves_before integer, customers bigint[])
language sql
stable
set search_path = ''
as $$
  with recursive up as (
    select g.id as gap_id, 0 as depth, null::bigint as customer_id
      from slotoptim_private.gap as g
     where g.id = p_gap_id
    union all
    select m.gap_id, up.depth + 1, m.customer_id
      from up
      join slotoptim_private.gap as g on g.id = up.gap_id
      join slotoptim_private.moveup_move as m
        on m.org_id = g.org_id and m.from_appointment_id = g.source_appointment_id
     where up.depth < 100
  )
  select (select u.gap_id from up as u order by u.depth desc limit 1),
         max(up.depth)::integer,
         coalesce(array_agg(up.customer_id) filter (where up.customer_id is not null), '{}')
    from up;
$$;

comment on function slotoptim_private.moveup_chain(bigint) is
  'The move-up chain above a gap: its first gap, the number of moves before it, the customers already moved.';

-- Points (0-100) for how much earlier a slot is than the held appointment: 100 for four weeks or
-- more when the organisation prefers the furthest appointments, the reverse when it prefers the
-- closest. Null for an ordinary waitlist entry (p_appointment_id null).
create or replace function slotoptim_private.moveup_points(p_appointment_id bigint, p_slot_start timestamptz,
                                                           p_prefer text)
returns integer
language sql
stable
set search_path = ''
as $$
  select case when p_prefer = 'closest' then 100 - x.points else x.points end
    from (select least(100, greatest(0, round(100 * extract(epoch from lower(a.period) - p_slot_start)
                                                  / extract(epoch from interval '28 days'))))::integer as points
            from slotoptim_private.appointment as a
           where a.id = p_appointment_id) as x;
$$;

comment on function slotoptim_private.moveup_points(bigint, timestamptz, text) is
  'Move-up score points for how much earlier a slot is than the held appointment (furthest or closest preferred).';

-- The chain guards for one move-up candidate: the held appointment is still booked or confirmed
-- and in the future; the slot is for the same service and earlier by at least moveup_min_gain
-- (never later than what is held); the customer was not moved within moveup_cooldown; the customer
-- is not already in this gap's chain (no cycle); the chain is shorter than moveup_max_chain.
-- True for an ordinary waitlist entry.
create or replace function slotoptim_private.moveup_allowed(p_entry_id bigint, p_service_id bigint, p_gap_id bigint,
                                                            p_slot_start timestamptz, p_at timestamptz)
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce((
    select w.moveup_appointment_id is null
        or (a.status in ('booked', 'confirmed')
            and lower(a.period) > p_at
            and a.service_id = p_service_id
            and p_slot_start <= lower(a.period) - st.moveup_min_gain
            and not exists (select 1 from slotoptim_private.moveup_move as m
                             where m.customer_id = w.customer_id and m.moved_at > p_at - st.moveup_cooldown)
            and not (w.customer_id = any (ch.customers))
            and ch.moves_before < st.moveup_max_chain)
      from slotoptim_private.waitlist_entry as w
      join slotoptim_private.organisation_settings as st on st.org_id = w.org_id
      left join slotoptim_private.appointment as a on a.id = w.moveup_appointment_id
      left join lateral slotoptim_private.moveup_chain(p_gap_id) as ch on w.moveup_appointment_id is not null
     where w.id = p_entry_id), false);
$$;

comment on function slotoptim_private.moveup_allowed(bigint, bigint, bigint, timestamptz, timestamptz) is
  'The move-up chain guards for one candidate (earlier only, same service, cool-down, no cycle, chain length).';

-- Why a move-up candidate is refused (the first guard of moveup_allowed that fails, in words),
-- or null when it is allowed or the entry is not a move-up: slotoptim.candidate_exclusions says it.
create or replace function slotoptim_private.moveup_refusal(p_entry_id bigint, p_service_id bigint, p_gap_id bigint,
                                                            p_slot_start timestamptz, p_at timestamptz)
returns text
language sql
stable
set search_path = ''
as $$
  select case
           when a.status not in ('booked', 'confirmed') or lower(a.period) <= p_at
             then format('the appointment to move is %s', case when lower(a.period) <= p_at then 'past' else a.status end)
           when a.service_id <> p_service_id then 'move-up keeps the appointment''s service'
           when p_slot_start > lower(a.period) - st.moveup_min_gain
             then format('not at least %s earlier than the appointment it would replace', st.moveup_min_gain)
           when exists (select 1 from slotoptim_private.moveup_move as m
                         where m.customer_id = w.customer_id and m.moved_at > p_at - st.moveup_cooldown)
             then format('moved within the last %s', st.moveup_cooldown)
           when w.customer_id = any (ch.customers) then 'already moved in this chain'
           when ch.moves_before >= st.moveup_max_chain then format('the chain has %s moves already', ch.moves_before)
         end
    from slotoptim_private.waitlist_entry as w
    join slotoptim_private.organisation_settings as st on st.org_id = w.org_id
    join slotoptim_private.appointment as a on a.id = w.moveup_appointment_id
    cross join lateral slotoptim_private.moveup_chain(p_gap_id) as ch
   where w.id = p_entry_id;
$$;

comment on function slotoptim_private.moveup_refusal(bigint, bigint, bigint, timestamptz, timestamptz) is
  'Why a move-up candidate is refused by the chain guards, in words; null when allowed or not a move-up.';

-- The second half of a move-up claim, called by book_offer after it inserted the new appointment:
-- cancels the held appointment (which opens its gap, the next link of the chain) and records the
-- move. Raises exclusion_violation, which claim_offer answers as "filled" and rolls back to before
-- the new booking, when the held appointment is gone or no longer later: never both, never neither.
create or replace function slotoptim_private.moveup_complete(p_offer_id bigint, p_new_appointment_id bigint,
                                                             p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_offer slotoptim_private.offer;
  v_held slotoptim_private.appointment;
  v_chain record;
begin
  select * into v_offer from slotoptim_private.offer as o where o.id = p_offer_id;
  select a.* into v_held
    from slotoptim_private.waitlist_entry as w
    join slotoptim_private.appointment as a on a.id = w.moveup_appointment_id
   where w.id = v_offer.waitlist_entry_id
     for update of a;
  if v_held.id is null then
    return;  -- an ordinary waitlist offer
  end if;
  if v_held.status not in ('booked', 'confirmed') or lower(v_held.period) <= lower(v_offer.slot) then
    raise exception using errcode = 'exclusion_violation',
      message = format('appointment %s is %s and no longer later than offer %s: nothing to move',
                       v_held.id, v_held.status, p_offer_id);
  end if;
  select * into v_chain from slotoptim_private.moveup_chain(v_offer.gap_id);
  update slotoptim_private.appointment as a set status = 'cancelled', cancelled_at = p_at where a.id = v_held.id;
  insert into slotoptim_private.moveup_move (
    org_id, customer_id, offer_id, gap_id, from_appointment_id, to_appointment_id, from_start, to_start,
    chain_root_gap_id, chain_position, moved_at)
  values (
    v_offer.org_id, v_offer.customer_id, v_offer.id, v_offer.gap_id, v_held.id, p_new_appointment_id,
    lower(v_held.period), lower(v_offer.slot), v_chain.root_gap_id, v_chain.moves_before + 1, p_at);
end;
$$;

comment on function slotoptim_private.moveup_complete(bigint, bigint, timestamptz) is
  'Second half of a move-up claim: cancels the held appointment and records the move, in the claim''s transaction.';

-- Enrols a booked appointment in move-up ("earlier if possible"), with a waitlist entry's
-- preferences; enrolling again updates them. By default only the appointment's provider; any
-- provider of the service with any_provider. Returns the enrolment's waitlist entry id.
create or replace function slotoptim.enrol_moveup(
  appointment_id bigint,
  at timestamptz default now(),
  preferred_days smallint[] default null,
  window_start time default null,
  window_end time default null,
  lead_time_minutes integer default 120,
  any_provider boolean default false
)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_appointment slotoptim_private.appointment;
  v_tz text;
  v_entry_id bigint;
begin
  select a.* into v_appointment from slotoptim_private.appointment as a
   where a.id = enrol_moveup.appointment_id
     and (slotoptim_private.current_org() is null or a.org_id = slotoptim_private.current_org())
     for update;
  if v_appointment.id is null then
    raise exception using errcode = 'no_data_found', message = format('unknown appointment %s', enrol_moveup.appointment_id);
  end if;
  if v_appointment.status not in ('booked', 'confirmed') or v_appointment.customer_id is null
     or lower(v_appointment.period) <= enrol_moveup.at then
    raise exception using errcode = 'check_violation',
      message = format('appointment %s is %s%s and cannot move earlier', v_appointment.id, v_appointment.status,
                       case when v_appointment.customer_id is null then ' without a customer'
                            when lower(v_appointment.period) <= enrol_moveup.at then ' in the past' else '' end);
  end if;
  select coalesce(c.timezone, o.timezone) into v_tz
    from slotoptim_private.customer as c
    join slotoptim_private.organisation as o on o.id = c.org_id
   where c.id = v_appointment.customer_id;

  insert into slotoptim_private.waitlist_entry as w (
    org_id, customer_id, key, status, preferred_days, window_start, window_end, latest_date, service_ids,
    provider_ids, lead_time_minutes, moveup_appointment_id, added_at)
  values (
    v_appointment.org_id, v_appointment.customer_id, 'moveup-' || v_appointment.id, 'active',
    enrol_moveup.preferred_days, enrol_moveup.window_start, enrol_moveup.window_end,
    (lower(v_appointment.period) at time zone v_tz)::date, array[v_appointment.service_id],
    case when enrol_moveup.any_provider then null else array[v_appointment.provider_id] end,
    coalesce(enrol_moveup.lead_time_minutes, 120), v_appointment.id, enrol_moveup.at)
  on conflict (org_id, key) do update
     set status = 'active', preferred_days = excluded.preferred_days, window_start = excluded.window_start,
         window_end = excluded.window_end, latest_date = excluded.latest_date,
         provider_ids = excluded.provider_ids, lead_time_minutes = excluded.lead_time_minutes,
         consecutive_ignored = 0
  returning w.id into v_entry_id;
  return v_entry_id;
end;
$$;

comment on function slotoptim.enrol_moveup(bigint, timestamptz, smallint[], time, time, integer, boolean) is
  'Enrols a booked appointment in move-up ("earlier if possible") with waitlist preferences; returns the entry id.';

-- Ends the move-up enrolment of an appointment (the customer changed their mind).
create or replace function slotoptim.leave_moveup(appointment_id bigint)
returns boolean
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.waitlist_entry as w set status = 'cancelled'
   where w.moveup_appointment_id = leave_moveup.appointment_id and w.status = 'active'
     and (slotoptim_private.current_org() is null or w.org_id = slotoptim_private.current_org())
  returning true;
$$;

comment on function slotoptim.leave_moveup(bigint) is 'Ends the move-up enrolment of an appointment; false when there was none.';

-- When a held appointment stops being booked (cancelled, moved by a claim, attended) or changes
-- time, its enrolment ends and its open offers are withdrawn (a claim of one answers "filled").
create or replace function slotoptim_private.appointment_moveup_close()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  with closed as (
    update slotoptim_private.waitlist_entry as w set status = 'cancelled'
     where w.org_id = new.org_id and w.moveup_appointment_id = new.id and w.status = 'active'
    returning w.id
  ), withdrawn as (
    update slotoptim_private.offer as o
       set status = 'retracted', responded_at = coalesce(o.responded_at, slotoptim_private.clock())
     where o.waitlist_entry_id in (select id from closed) and o.status = 'open'
    returning o.id
  )
  update slotoptim_private.message as m set status = 'cancelled', locked_by = null, locked_until = null
   where m.offer_id in (select id from withdrawn) and m.status = 'queued';
  return null;
end;
$$;

comment on function slotoptim_private.appointment_moveup_close() is
  'Trigger: a held appointment no longer booked (or moved in time) ends its move-up enrolment and withdraws its offers.';

create or replace trigger appointment_moveup_close
  after update of status, period on slotoptim_private.appointment
  for each row
  when (new.status not in ('booked', 'confirmed') or new.period is distinct from old.period)
  execute function slotoptim_private.appointment_moveup_close();

-- Organisations with moveup_auto_enrol enrol every new future booking of a customer.
create or replace function slotoptim_private.appointment_moveup_auto_enrol()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.customer_id is not null and new.status in ('booked', 'confirmed')
     and lower(new.period) > slotoptim_private.clock()
     and exists (select 1 from slotoptim_private.organisation_settings as st
                  where st.org_id = new.org_id and st.moveup_auto_enrol
                    and lower(new.period) - slotoptim_private.clock() > st.moveup_min_gain) then
    perform slotoptim.enrol_moveup(new.id, slotoptim_private.clock());
  end if;
  return null;
end;
$$;

comment on function slotoptim_private.appointment_moveup_auto_enrol() is
  'Trigger: enrols a new booking in move-up when its organisation turned auto-enrolment on.';

create or replace trigger appointment_moveup_auto_enrol
  after insert on slotoptim_private.appointment
  for each row execute function slotoptim_private.appointment_moveup_auto_enrol();
