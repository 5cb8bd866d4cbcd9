-- Running late, told early: when a provider's queue predicts that a booked customer who is not
-- here yet will be called at least heads_up_minutes after their start, queue one text telling
-- them so ("running about 25 minutes late"). Same rules as offers: SMS consent, not opted out,
-- and only inside the organisation's send window (a heads-up deferred past quiet hours would
-- come too late to help, so none is queued). One per appointment. Organisations opt in
-- (queue_settings.heads_up_enabled). The sender renders the one-segment text (listener/templates.py).
create or replace function slotoptim.queue_heads_up(at timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_provider record;
  v_row record;
  v_count integer := 0;
  v_message_id bigint;
begin
  for v_provider in
    select distinct a.org_id, a.provider_id, c.heads_up_minutes
      from slotoptim_private.appointment as a
      cross join lateral slotoptim_private.queue_config(a.org_id) as c
     where c.heads_up_enabled
       and a.status in ('booked', 'confirmed')
       and lower(a.period) > queue_heads_up.at
       and lower(a.period) <= queue_heads_up.at + interval '3 hours'
  loop
    for v_row in
      select a.id as appointment_id, a.org_id, a.customer_id, cu.phone,
             -- Rounded to 5 minutes: "about 25 minutes", not "23.4".
             (round(f.delay_minutes / 5) * 5)::integer as delay
        from slotoptim.queue_forecast(v_provider.org_id, v_provider.provider_id, queue_heads_up.at) as f
        join slotoptim_private.appointment as a on a.id = f.appointment_id
        join slotoptim_private.customer as cu on cu.id = a.customer_id
        join slotoptim_private.organisation as o on o.id = a.org_id
        join slotoptim_private.organisation_settings as st on st.org_id = a.org_id
       where f.kind = 'expected' and f.delay_minutes >= v_provider.heads_up_minutes
         and lower(a.period) > queue_heads_up.at
         and lower(a.period) <= queue_heads_up.at + interval '3 hours'
         and cu.consent_sms and cu.phone is not null and cu.opted_out_at is null
         and slotoptim_private.next_send_time(queue_heads_up.at, coalesce(cu.timezone, o.timezone),
                                              st.send_window_start, st.send_window_end) = queue_heads_up.at
         and not exists (select 1 from slotoptim_private.queue_heads_up as h where h.appointment_id = a.id)
    loop
      insert into slotoptim_private.queue_heads_up (org_id, appointment_id, predicted_delay_minutes, created_at)
      values (v_row.org_id, v_row.appointment_id, v_row.delay, queue_heads_up.at)
      on conflict do nothing;
      if found then
        insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, not_before, created_at)
        values (v_row.org_id, v_row.customer_id, 'running_late', 'sms', v_row.phone, queue_heads_up.at, queue_heads_up.at)
        returning id into v_message_id;
        update slotoptim_private.queue_heads_up as h set message_id = v_message_id
         where h.org_id = v_row.org_id and h.appointment_id = v_row.appointment_id;
        v_count := v_count + 1;
      end if;
    end loop;
  end loop;
  if v_count > 0 then
    perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
      pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'count', v_count)::text);
  end if;
  return v_count;
end;
$$;

comment on function slotoptim.queue_heads_up(timestamptz) is
  'Queues a running-late text for booked customers not yet here whose predicted delay passes the heads-up threshold (consent, send window, once per appointment).';
