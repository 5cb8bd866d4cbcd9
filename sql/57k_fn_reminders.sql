-- Reminders that double as cancellation detectors (issue 12, item 2). slotoptim.tick calls
-- slotoptim.send_due_reminders each pass; the outbox sends them (listener/templates.py renders
-- them without health details, in one SMS segment). Replies come back through the Twilio webhook
-- to slotoptim.reminder_reply: C cancels (the gap opens at once and the engine offers it), Y or
-- CONFIRM confirms, R asks the front desk for another time, EARLIER enrols in move-up.

-- The organisation's reminder plan, or the default: email 48 h, SMS 24 h and 2 h before, and for
-- appointments at or above the no-show risk threshold an extra SMS 6 h before.
create or replace function slotoptim_private.reminder_plan(p_org_id bigint)
returns table (channel text, before interval, high_risk_only boolean)
language sql
stable
set search_path = ''
as $$
  select r.channel, r.before, r.high_risk_only
    from slotoptim_private.reminder_rule as r
   where r.org_id = p_org_id
  union all
  select d.channel, d.before, d.high_risk_only
    from (values ('email', interval '48 hours', false), ('sms', interval '24 hours', false),
                 ('sms', interval '2 hours', false), ('sms', interval '6 hours', true))
         as d(channel, before, high_risk_only)
   where not exists (select 1 from slotoptim_private.reminder_rule as r2 where r2.org_id = p_org_id);
$$;

comment on function slotoptim_private.reminder_plan(bigint) is
  'An organisation''s reminder steps (channel, time before, high-risk only), or the default plan.';

-- The latest instant at or before p_at inside the recipient's local send window: a reminder due in
-- quiet hours goes out earlier, never later.
create or replace function slotoptim_private.previous_send_time(p_at timestamptz, p_tz text, p_start time, p_end time)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select case
           when (p_at at time zone p_tz)::time >= p_start and (p_at at time zone p_tz)::time < p_end then p_at
           when (p_at at time zone p_tz)::time < p_start
             then (((p_at at time zone p_tz)::date - 1) + p_end - interval '1 minute') at time zone p_tz
           else ((p_at at time zone p_tz)::date + p_end - interval '1 minute') at time zone p_tz
         end;
$$;

comment on function slotoptim_private.previous_send_time(timestamptz, text, time, time) is
  'The latest instant at or before a time that lies inside the local send window (quiet hours move reminders earlier).';

-- Queues every reminder due at p_at: for each booked or confirmed upcoming appointment with a
-- customer and each step of its organisation's plan whose send time (moved out of quiet hours)
-- has come, was after the booking and is not more than half the step late. A step on a channel
-- without consent, or for an opted-out customer, is skipped; a high-risk step only applies at or
-- above learning_settings.high_risk_threshold (outreach only); a 'call' step is a staff task.
-- Idempotent: each step is decided once per appointment (slotoptim_private.reminder).
create or replace function slotoptim.send_due_reminders(at timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_made integer := 0;
begin
  with due as (
    select a.org_id, a.id as appointment_id, a.customer_id, p.channel, p.before, p.high_risk_only,
           c.phone, c.email, c.consent_sms, c.consent_whatsapp, c.consent_email, c.opted_out_at,
           slotoptim_private.previous_send_time(lower(a.period) - p.before, coalesce(c.timezone, o.timezone),
                                                st.send_window_start, st.send_window_end) as send_at,
           a.booked_at
      from slotoptim_private.appointment as a
      join slotoptim_private.organisation_settings as st on st.org_id = a.org_id and st.reminders_enabled
      join slotoptim_private.organisation as o on o.id = a.org_id
      join slotoptim_private.customer as c on c.id = a.customer_id
      left join slotoptim_private.learning_settings as ls on ls.org_id = a.org_id
      cross join lateral slotoptim_private.reminder_plan(a.org_id) as p
     where a.status in ('booked', 'confirmed')
       and lower(a.period) > send_due_reminders.at
       and lower(a.period) <= send_due_reminders.at + interval '31 days'
       -- Only steps that can be due now: not more than half a step late, and quiet hours move a
       -- step back by less than a day.
       and lower(a.period) >= send_due_reminders.at + p.before / 2
       and lower(a.period) <= send_due_reminders.at + p.before + interval '24 hours'
       and (not p.high_risk_only or a.no_show_risk >= coalesce(ls.high_risk_threshold, 0.3))
       and not exists (select 1 from slotoptim_private.reminder as r
                        where r.org_id = a.org_id and r.appointment_id = a.id and r.channel = p.channel
                          and r.before = p.before and r.high_risk_only = p.high_risk_only)
  ), ready as (
    select d.*,
           case d.channel when 'sms' then d.consent_sms when 'whatsapp' then d.consent_whatsapp
                          when 'email' then d.consent_email else true end
           and d.opted_out_at is null as allowed
      from due as d
     where d.send_at <= send_due_reminders.at
       and d.send_at >= d.booked_at
       and send_due_reminders.at - d.send_at <= d.before / 2
  ), messages as (
    insert into slotoptim_private.message (org_id, customer_id, appointment_id, kind, channel, to_address,
                                           not_before, created_at)
    -- Two steps of one channel due together (quiet hours moved both) make one message.
    select distinct on (r.appointment_id, r.channel)
           r.org_id, r.customer_id, r.appointment_id, 'reminder', r.channel,
           case when r.channel = 'email' then r.email else r.phone end, send_due_reminders.at, send_due_reminders.at
      from ready as r
     where r.allowed and r.channel <> 'call'
     order by r.appointment_id, r.channel, r.before
    returning id, org_id, appointment_id, channel
  ), tasks as (
    insert into slotoptim_private.staff_task (org_id, appointment_id, kind, due_at, created_at)
    select r.org_id, r.appointment_id, 'reminder_call', r.send_at, send_due_reminders.at
      from ready as r
     where r.channel = 'call'
    returning 1
  ), decided as (
    insert into slotoptim_private.reminder (org_id, appointment_id, channel, before, high_risk_only, message_id,
                                            created_at)
    select r.org_id, r.appointment_id, r.channel, r.before, r.high_risk_only, m.id, send_due_reminders.at
      from ready as r
      left join messages as m on m.appointment_id = r.appointment_id and m.channel = r.channel
                             and r.channel <> 'call'
    on conflict do nothing
    returning message_id
  )
  select (select count(*) from messages) + (select count(*) from tasks) into v_made;
  if v_made > 0 then
    perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
      pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'reminders', v_made)::text);
  end if;
  return v_made;
end;
$$;

comment on function slotoptim.send_due_reminders(timestamptz) is
  'Queues the reminders (and staff call tasks) due at a time, once per appointment and plan step; returns how many.';

-- The appointment a reply from this phone is about: the one whose reminder (SMS or WhatsApp) reached
-- that phone last among its upcoming, still booked or confirmed appointments in the organisation.
create or replace function slotoptim_private.reminded_appointment(p_org_id bigint, p_phone text, p_at timestamptz)
returns table (appointment_id bigint, reminded_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select a.id, coalesce(m.sent_at, m.not_before)
    from slotoptim_private.message as m
    join slotoptim_private.customer as c on c.id = m.customer_id
    join slotoptim_private.appointment as a on a.id = m.appointment_id
   where m.org_id = p_org_id and c.phone = p_phone and m.kind = 'reminder'
     and m.channel in ('sms', 'whatsapp') and m.status in ('sent', 'delivered')
     and a.status in ('booked', 'confirmed') and lower(a.period) > p_at
   order by coalesce(m.sent_at, m.not_before) desc, m.id desc
   limit 1;
$$;

comment on function slotoptim_private.reminded_appointment(bigint, text, timestamptz) is
  'The upcoming appointment whose reminder reached a phone last in an organisation.';

-- A reply to a reminder: 'cancel' (the gap opens at once), 'confirm', 'reschedule' (a staff task:
-- the appointment stays until someone finds another time) or 'earlier' (move-up enrolment).
-- Returns the action taken and the appointment; 'no_reminder' when nothing was reminded.
create or replace function slotoptim.reminder_reply(org_id bigint, from_phone text, reply text,
                                                    at timestamptz default now())
returns table (action text, appointment_id bigint)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_appointment_id bigint;
begin
  if reminder_reply.reply not in ('cancel', 'confirm', 'reschedule', 'earlier') then
    raise exception using errcode = 'invalid_parameter_value',
      message = format('reply must be cancel, confirm, reschedule or earlier, got %s',
                       pg_catalog.quote_literal(reminder_reply.reply));
  end if;
  select r.appointment_id into v_appointment_id
    from slotoptim_private.reminded_appointment(reminder_reply.org_id, reminder_reply.from_phone, reminder_reply.at) as r;
  if v_appointment_id is null then
    action := 'no_reminder';
    return next;
    return;
  end if;
  appointment_id := v_appointment_id;
  if reminder_reply.reply = 'cancel' then
    perform slotoptim.cancel_appointment(v_appointment_id, reminder_reply.at);
    action := 'cancelled';
  elsif reminder_reply.reply = 'confirm' then
    update slotoptim_private.appointment as a set status = 'confirmed'
     where a.id = v_appointment_id and a.status = 'booked';
    action := 'confirmed';
  elsif reminder_reply.reply = 'reschedule' then
    insert into slotoptim_private.staff_task (org_id, appointment_id, kind, due_at, created_at)
    select reminder_reply.org_id, v_appointment_id, 'reschedule', reminder_reply.at, reminder_reply.at
     where not exists (select 1 from slotoptim_private.staff_task as t
                        where t.appointment_id = v_appointment_id and t.kind = 'reschedule' and t.done_at is null);
    action := 'reschedule_requested';
  else
    perform slotoptim.enrol_moveup(v_appointment_id, reminder_reply.at);
    action := 'enrolled_earlier';
  end if;
  return next;
end;
$$;

comment on function slotoptim.reminder_reply(bigint, text, text, timestamptz) is
  'Acts on a reply to a reminder: cancel, confirm, reschedule (staff task) or earlier (move-up enrolment).';

-- The front desk marks a task done (a reminder call made, a reschedule handled). Idempotent.
create or replace function slotoptim.finish_staff_task(task_id bigint, at timestamptz default now())
returns boolean
language sql
volatile
set search_path = ''
as $$
  update slotoptim_private.staff_task as t set done_at = coalesce(t.done_at, finish_staff_task.at)
   where t.id = finish_staff_task.task_id
     and (slotoptim_private.current_org() is null or t.org_id = slotoptim_private.current_org())
  returning true;
$$;

comment on function slotoptim.finish_staff_task(bigint, timestamptz) is
  'Marks a front-desk task (reminder call, reschedule request) done; null when there is no such task.';
