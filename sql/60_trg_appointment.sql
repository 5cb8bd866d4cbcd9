-- Appointment triggers: buffers and blocked time on write; gaps when time is freed or consumed.

-- Locks, before a write touches the appointment's exclusion index, every live gap of the provider
-- it will fill or free (overlapping the new blocked time, or overlapping or touching the old one),
-- then their live campaigns, then their open offers: the order the claim path takes
-- (slotoptim.claim_offer). Without it a staff booking or a reschedule held its index entry while it
-- waited for the gap a claimant held, and the claimant's insert waited on that entry: 40P01.
create or replace function slotoptim_private.lock_gaps_for_write(
  p_provider_id bigint,
  p_filled tstzmultirange,
  p_freed tstzmultirange
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gap_ids bigint[];
  v_campaign_ids bigint[];
begin
  select coalesce(array_agg(g.id order by g.id), '{}') into v_gap_ids
    from (select g.id from slotoptim_private.gap as g
           where g.provider_id = p_provider_id
             and g.status in ('open', 'offering')
             and (pg_catalog.tstzmultirange(g.during) && p_filled
                  or pg_catalog.tstzmultirange(g.during) && p_freed
                  or pg_catalog.tstzmultirange(g.during) -|- p_freed)
           order by g.id
             for update) as g;
  if cardinality(v_gap_ids) = 0 then
    return;
  end if;
  select coalesce(array_agg(c.id order by c.id), '{}') into v_campaign_ids
    from (select c.id from slotoptim_private.offer_campaign as c
           where c.gap_id = any (v_gap_ids) and c.status in ('running', 'awaiting_approval')
           order by c.id
             for update) as c;
  perform 1 from slotoptim_private.offer as o
   where o.campaign_id = any (v_campaign_ids) and o.status in ('open', 'awaiting_approval')
   order by o.id
     for update;
end;
$$;

create or replace function slotoptim_private.appointment_before_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.source = 'external' then
    -- External busy time has no service and keeps no buffer: it is exactly the calendar's event.
    new.buffer_after_minutes := coalesce(new.buffer_after_minutes, 0);
  elsif tg_op = 'INSERT' then
    if new.buffer_after_minutes is null then
      new.buffer_after_minutes := slotoptim_private.buffer_after(
        new.service_id, new.provider_id, new.customer_id, lower(new.period));
    end if;
  elsif (new.period, new.service_id, new.provider_id, new.customer_id)
        is distinct from (old.period, old.service_id, old.provider_id, old.customer_id)
    and new.buffer_after_minutes is not distinct from old.buffer_after_minutes then
    -- Rescheduled or reassigned without an explicit buffer: size it again.
    new.buffer_after_minutes := slotoptim_private.buffer_after(
      new.service_id, new.provider_id, new.customer_id, lower(new.period));
  end if;
  if new.buffer_after_minutes is null then
    raise exception using
      errcode = 'foreign_key_violation',
      message = format('unknown service %s', new.service_id);
  end if;
  new.blocked := pg_catalog.tstzrange(
    lower(new.period),
    upper(new.period) + pg_catalog.make_interval(mins => new.buffer_after_minutes),
    '[)');

  -- Arrived, completed and no-show describe what happened, so they never belong to a later day:
  -- a no-show not before the appointment starts; arrived and completed up to 12 hours ahead of it
  -- (a customer checks in at the kiosk in the morning for an afternoon visit, and the check-in
  -- queue may see them early and finish before the booked start). The clock is the caller's
  -- (slotoptim.clock), so tests and simulations can drive it. An EHR's own appointment (source
  -- external) is exempt: the EHR is the record, and a mirror that refused what it says could never
  -- converge with it (a no-show there before the start still frees the time here).
  if new.status in ('arrived', 'completed', 'no_show') and new.source <> 'external'
     and (tg_op = 'INSERT' or new.status is distinct from old.status)
     and lower(new.period) > slotoptim_private.clock()
         + (case when new.status = 'no_show' then interval '0' else interval '12 hours' end) then
    raise exception using
      errcode = 'check_violation',
      constraint = 'appointment_status_not_yet',
      column = 'status',
      message = format('an appointment starting %s cannot be marked %s yet', lower(new.period), new.status);
  end if;

  if tg_op = 'INSERT' and slotoptim_private.is_blocking(new.status) then
    -- A set-based insert of external busy time locks (and consumes) the gaps it fills once for the
    -- whole statement (slotoptim_private.reconcile_external).
    if new.source = 'external' and pg_catalog.current_setting('slotoptim.gaps_by_statement', true) = 'on' then
      return new;
    end if;
    perform slotoptim_private.lock_gaps_for_write(new.provider_id, pg_catalog.tstzmultirange(new.blocked), '{}');
  elsif tg_op = 'UPDATE' and (new.blocked, new.status, new.provider_id) is distinct from (old.blocked, old.status, old.provider_id) then
    perform slotoptim_private.lock_gaps_for_write(
      old.provider_id,
      case when new.provider_id = old.provider_id and slotoptim_private.is_blocking(new.status)
           then pg_catalog.tstzmultirange(new.blocked) else '{}' end,
      case when slotoptim_private.is_blocking(old.status) then pg_catalog.tstzmultirange(old.blocked) else '{}' end);
    if new.provider_id <> old.provider_id and slotoptim_private.is_blocking(new.status) then
      perform slotoptim_private.lock_gaps_for_write(new.provider_id, pg_catalog.tstzmultirange(new.blocked), '{}');
    end if;
  end if;
  return new;
end;
$$;

create or replace trigger appointment_before_write
  before insert or update on slotoptim_private.appointment
  for each row execute function slotoptim_private.appointment_before_write();

create or replace function slotoptim_private.appointment_after_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := slotoptim_private.clock();
  v_old_blocks tstzmultirange := '{}';
  v_new_blocks tstzmultirange := '{}';
begin
  -- A delete cascading from a provider or organisation being removed frees nothing worth filling.
  if tg_op = 'DELETE' and pg_catalog.pg_trigger_depth() > 1 then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') and slotoptim_private.is_blocking(old.status) then
    v_old_blocks := pg_catalog.tstzmultirange(old.blocked);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and slotoptim_private.is_blocking(new.status) then
    v_new_blocks := pg_catalog.tstzmultirange(new.blocked);
  end if;

  if tg_op = 'UPDATE' and old.provider_id = new.provider_id then
    if not isempty(v_old_blocks - v_new_blocks) then
      perform slotoptim_private.open_gaps(old.provider_id, v_old_blocks - v_new_blocks, old.id, v_at);
    end if;
  elsif not isempty(v_old_blocks) then
    -- A deleted appointment cannot be the gap's source (the row is gone); a moved one can.
    perform slotoptim_private.open_gaps(old.provider_id, v_old_blocks,
                                        case when tg_op = 'DELETE' then null else old.id end, v_at);
  end if;

  if not isempty(v_new_blocks)
     and not (tg_op = 'INSERT' and new.source = 'external'
              and pg_catalog.current_setting('slotoptim.gaps_by_statement', true) = 'on') then
    perform slotoptim_private.consume_gaps(new.id, v_at);
  end if;
  return null;
end;
$$;

create or replace trigger appointment_after_write
  after insert or update or delete on slotoptim_private.appointment
  for each row execute function slotoptim_private.appointment_after_write();
