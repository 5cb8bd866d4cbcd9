-- Fixture helpers for the pgTAP files, loaded into the test template database only.
create schema if not exists tests;

-- A small practice: organisation "acme" (America/New_York), provider "dr-a" working
-- Monday-Friday 09:00-17:00 local, services "short" (15 min + 5 buffer) and "long" (60 min + 10),
-- customer "c1". Returns the provider id.
create or replace function tests.make_practice(p_org_key text default 'acme')
returns bigint
language plpgsql
as $$
declare
  v_org bigint;
  v_provider bigint;
  v_short bigint;
  v_long bigint;
begin
  insert into slotoptim_private.organisation (key, name, timezone) values (p_org_key, 'Acme Clinic', 'America/New_York')
    returning id into v_org;
  insert into slotoptim_private.organisation_settings (org_id) values (v_org) on conflict (org_id) do nothing;
  insert into slotoptim_private.provider (org_id, key, name, timezone) values (v_org, 'dr-a', 'Dr. A', 'America/New_York')
    returning id into v_provider;
  insert into slotoptim_private.service (org_id, key, name, minutes, price, buffer_after_minutes, category, complexity)
    values (v_org, 'short', 'Short visit', 15, 50, 5, 'general', 1) returning id into v_short;
  insert into slotoptim_private.service (org_id, key, name, minutes, price, buffer_after_minutes, category, complexity)
    values (v_org, 'long', 'Long visit', 60, 200, 10, 'surgery', 4) returning id into v_long;
  insert into slotoptim_private.provider_service (org_id, provider_id, service_id)
    values (v_org, v_provider, v_short), (v_org, v_provider, v_long);
  insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)
    select v_org, v_provider, d, '09:00', '17:00' from generate_series(1, 5) as d;
  insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)
    values (v_org, 'c1', 'Casey One', '+16175550101', true);
  return v_provider;
end;
$$;

-- Books service p_service_key for provider dr-a of p_org_key over [p_start, p_start + minutes).
create or replace function tests.book(p_start timestamptz, p_service_key text default 'short',
                                      p_customer_key text default null, p_org_key text default 'acme')
returns bigint
language sql
as $$
  insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period)
  select o.id, p.id, s.id, c.id, tstzrange(p_start, p_start + make_interval(mins => s.minutes), '[)')
    from slotoptim_private.organisation o
    join slotoptim_private.provider p on p.org_id = o.id and p.key = 'dr-a'
    join slotoptim_private.service s on s.org_id = o.id and s.key = p_service_key
    left join slotoptim_private.customer c on c.org_id = o.id and c.key = p_customer_key
   where o.key = p_org_key
  returning id;
$$;
