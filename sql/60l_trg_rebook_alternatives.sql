-- Seed 003, edge case 7: a customer who booked through an offer or the booking page, and whose new
-- appointment the practice then cancels, is not left with nothing. At once: their waitlist request
-- is active again (the engine offers them the next opening with a link), entries that were to close
-- after the booking stay open, and one message lists up to three other open times for the same
-- service (slotoptim.find_appointments, ranked for them), never the cancelled time itself.
--
-- "By the practice": every cancellation except the customer's own, which comes through an inbound
-- text or one of the customer pages (the actors twilio-inbound, claim-page, booking-page,
-- reminder-page).

create or replace function slotoptim_private.rebook_text(p_practice text, p_was text, p_times text[])
returns text
language sql
immutable
set search_path = ''
as $$
  select format('%s: sorry, your %s visit is cancelled. %s. Reply STOP to opt out', p_practice, p_was,
                case when pg_catalog.cardinality(p_times) = 0 then 'We''ll text you when a time opens'
                     else 'Open: ' || pg_catalog.array_to_string(p_times, ', ') || '. Call us to book' end);
$$;

comment on function slotoptim_private.rebook_text(text, text, text[]) is
  'The text telling a customer their appointment was cancelled by the practice, with up to three other open times.';

create or replace function slotoptim_private.rebook_alternatives()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_actor text := nullif(pg_catalog.current_setting('slotoptim.actor', true), '')::jsonb ->> 'id';
  v_offer slotoptim_private.offer;
  v_customer slotoptim_private.customer;
  v_org slotoptim_private.organisation;
  v_service_key text;
  v_tz text;
  v_channel text;
  v_times text[];
  v_body text;
  v_practice text;
  v_at timestamptz := slotoptim_private.clock();
begin
  if v_actor in ('twilio-inbound', 'claim-page', 'booking-page', 'reminder-page') then
    return null;  -- the customer cancelled it themselves
  end if;
  select * into v_offer from slotoptim_private.offer as o
   where o.appointment_id = new.id and o.status = 'claimed'
   order by o.id desc limit 1;
  if v_offer.id is null or upper(new.period) <= v_at then
    return null;
  end if;
  select * into v_customer from slotoptim_private.customer as c where c.id = new.customer_id;
  select * into v_org from slotoptim_private.organisation as o where o.id = new.org_id;
  select s.key into v_service_key from slotoptim_private.service as s where s.id = new.service_id;
  v_tz := coalesce(v_customer.timezone, v_org.timezone);

  -- Back on the waiting list, first in the engine's eyes like anyone who never got a time.
  update slotoptim_private.waitlist_entry as w set status = 'active', closes_at = null, updated_at = v_at
   where w.id = v_offer.waitlist_entry_id and w.status in ('fulfilled', 'paused');
  update slotoptim_private.waitlist_entry as w set closes_at = null
   where w.customer_id = new.customer_id and w.status = 'active' and w.closes_at is not null;

  v_channel := case when v_customer.opted_out_at is not null then null
                    when v_customer.consent_sms and v_customer.phone is not null then 'sms'
                    when v_customer.consent_email and v_customer.email is not null then 'email' end;
  if v_channel is null then
    return null;
  end if;
  select coalesce(array_agg(pg_catalog.to_char(f.starts at time zone v_tz, 'Dy MM/DD FMHH12:MIAM') order by f.starts),
                  '{}')
    into v_times
    from (
      select lower(fa.slot) as starts
        from slotoptim.find_appointments(v_service_key, pg_catalog.tstzrange(v_at, v_at + interval '14 days', '[)'),
                                         null, new.customer_id, 12, 15, v_at) as fa
       where not (fa.slot && new.period)
       order by fa.score desc, lower(fa.slot)
       limit 3
    ) as f;
  -- One GSM-7 segment: the practice's name is shortened, then times are dropped, until it fits.
  v_practice := v_org.name;
  loop
    v_body := slotoptim_private.rebook_text(v_practice,
                pg_catalog.to_char(lower(new.period) at time zone v_tz, 'Dy MM/DD FMHH12:MIAM'), v_times);
    exit when pg_catalog.length(v_body) <= 160 or v_channel = 'email';
    if pg_catalog.length(v_practice) > 12 then
      v_practice := pg_catalog.left(v_practice, 11) || '.';
    elsif pg_catalog.cardinality(v_times) > 1 then
      v_times := v_times[1:pg_catalog.cardinality(v_times) - 1];
    else
      exit;
    end if;
  end loop;
  -- Tied to the old offer: an email carries the customer's page (and its "Stop all messages").
  insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, body, not_before,
                                         created_at)
  values (new.org_id, new.customer_id, v_offer.id, 'rebook_alternatives', v_channel,
          case when v_channel = 'email' then v_customer.email else v_customer.phone end, v_body, v_at, v_at);
  perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
    pg_catalog.json_build_object('v', 1, 'type', 'messages_queued', 'appointment_id', new.id)::text);
  return null;
end;
$$;

comment on function slotoptim_private.rebook_alternatives() is
  'Trigger: a practice cancelling an appointment booked from an offer re-activates the customer''s request and texts up to three other open times.';

-- Named to sort after appointment_after_write: the freed time is a gap before alternatives are sought.
create or replace trigger appointment_rebook_alternatives
  after update of status on slotoptim_private.appointment
  for each row when (new.status = 'cancelled' and old.status in ('booked', 'confirmed'))
  execute function slotoptim_private.rebook_alternatives();
