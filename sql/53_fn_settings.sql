-- Organisation settings with their defaults, and the cascade plan.

-- Every organisation has a settings row (defaults) from the moment it exists.
create or replace function slotoptim_private.organisation_defaults()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into slotoptim_private.organisation_settings (org_id) values (new.id) on conflict (org_id) do nothing;
  return null;
end;
$$;

create or replace trigger organisation_defaults
  after insert on slotoptim_private.organisation
  for each row execute function slotoptim_private.organisation_defaults();

-- The organisation's cascade waves, or seed 002's: top 3 with score >= 55 for 15 minutes, the
-- next 5 with >= 45 for 20 minutes, then everyone >= 35 (email allowed) for 30 minutes.
create or replace function slotoptim_private.cascade_waves(p_org_id bigint)
returns table (wave integer, max_candidates integer, min_score numeric, response_window interval, allow_email boolean)
language sql
stable
set search_path = ''
as $$
  select w.wave::integer, w.max_candidates, w.min_score, w.response_window, w.allow_email
    from slotoptim_private.cascade_wave as w
   where w.org_id = p_org_id
  union all
  select d.wave, d.max_candidates, d.min_score, d.response_window, d.allow_email
    from (values (1, 3, 55.0, interval '15 minutes', false),
                 (2, 5, 45.0, interval '20 minutes', false),
                 (3, null::integer, 35.0, interval '30 minutes', true))
         as d(wave, max_candidates, min_score, response_window, allow_email)
   where not exists (select 1 from slotoptim_private.cascade_wave as w2 where w2.org_id = p_org_id)
   order by 1;
$$;

-- The next instant at or after p_at that falls inside the recipient's local send window.
create or replace function slotoptim_private.next_send_time(p_at timestamptz, p_tz text, p_start time, p_end time)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select case
           when (p_at at time zone p_tz)::time >= p_start and (p_at at time zone p_tz)::time < p_end then p_at
           when (p_at at time zone p_tz)::time < p_start
             then ((p_at at time zone p_tz)::date + p_start) at time zone p_tz
           else (((p_at at time zone p_tz)::date + 1) + p_start) at time zone p_tz
         end;
$$;
