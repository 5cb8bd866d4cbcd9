-- No-show features of appointments, from the practice's own calendar, as they were known when each
-- booking was made (booked_at). Leakage rule: the customer's record counts only appointments that
-- started strictly before this booking's booked_at (and cancellations made before it); nothing about
-- this appointment's own outcome, nor anything that happened after booked_at, enters a feature.
-- Local times are in the provider's time zone. The label (no_show) is set only for appointments that
-- started before p_at and were marked: true for no_show, false for arrived/completed.
-- The Python model (slotoptim.ml.noshow) reads these rows both to train and to score, so training
-- and scoring see the same definition.
create or replace function slotoptim_private.noshow_features(
  p_org_id bigint,
  p_at timestamptz,
  p_appointment_ids bigint[] default null
)
returns table (
  appointment_id bigint,
  org_id bigint,
  provider_id bigint,
  service_id bigint,
  customer_id bigint,
  status text,
  starts_at timestamptz,
  booked_at timestamptz,
  -- Whole local days from the booking to the appointment.
  lead_days integer,
  same_day boolean,
  -- ISO weekday (1 = Monday) and local hour (10.5 = 10:30) of the appointment and of the booking.
  weekday smallint,
  start_hour real,
  booked_weekday smallint,
  booked_hour real,
  -- Whole years at the appointment's local date, and the band: 0-12, 13-17, 18-29, 30-44, 45-59,
  -- 60-74, 75+ as 0..6 (the Kaggle model's bands). Null without a (plausible) birth date.
  age integer,
  age_band smallint,
  -- The customer's attended (arrived, completed) and missed appointments that started before booked_at.
  prior_visits integer,
  prior_no_shows integer,
  -- The customer's appointments cancelled before booked_at.
  prior_cancellations integer,
  prior_no_show_rate real,
  days_since_last_visit integer,
  last_visit_no_show boolean,
  -- No attended appointment before booked_at (null when the customer is unknown).
  new_customer boolean,
  sms_reminder boolean,
  service_minutes integer,
  no_show boolean
)
language sql
stable
set search_path = ''
as $$
  select a.id,
         a.org_id,
         a.provider_id,
         a.service_id,
         a.customer_id,
         a.status,
         lower(a.period),
         a.booked_at,
         (local.start_day - local.booked_day)::integer,
         local.start_day = local.booked_day,
         extract(isodow from local.start_day)::smallint,
         (extract(hour from local.start_ts) + extract(minute from local.start_ts) / 60.0)::real,
         extract(isodow from local.booked_day)::smallint,
         (extract(hour from local.booked_ts) + extract(minute from local.booked_ts) / 60.0)::real,
         age.years,
         case
           when age.years is null then null
           when age.years >= 75 then 6
           when age.years >= 60 then 5
           when age.years >= 45 then 4
           when age.years >= 30 then 3
           when age.years >= 18 then 2
           when age.years >= 13 then 1
           else 0
         end::smallint,
         hist.visits,
         hist.no_shows,
         cancels.n,
         case when hist.visits + hist.no_shows > 0
              then (hist.no_shows::real / (hist.visits + hist.no_shows)) end,
         (local.booked_day - (hist.last_start at time zone p.timezone)::date)::integer,
         last_visit.missed,
         case when a.customer_id is not null then hist.visits = 0 end,
         a.sms_reminder,
         (extract(epoch from upper(a.period) - lower(a.period)) / 60)::integer,
         case
           when lower(a.period) >= p_at then null
           when a.status = 'no_show' then true
           when a.status in ('arrived', 'completed') then false
         end
    from slotoptim_private.appointment as a
    join slotoptim_private.provider as p on p.id = a.provider_id
    left join slotoptim_private.customer as c on c.id = a.customer_id
    cross join lateral (
      select lower(a.period) at time zone p.timezone as start_ts,
             a.booked_at at time zone p.timezone as booked_ts,
             (lower(a.period) at time zone p.timezone)::date as start_day,
             (a.booked_at at time zone p.timezone)::date as booked_day
    ) as local
    cross join lateral (
      select case when c.birth_date <= local.start_day
                  then extract(year from pg_catalog.age(local.start_day, c.birth_date))::integer end as years
    ) as age
    left join lateral (
      -- Null counts (not zero) when the customer is unknown: their record is missing, not empty.
      select count(*) filter (where h.status in ('arrived', 'completed'))::integer as visits,
             count(*) filter (where h.status = 'no_show')::integer as no_shows,
             max(lower(h.period)) as last_start
        from slotoptim_private.appointment as h
       where h.customer_id = a.customer_id
         and h.id <> a.id
         and lower(h.period) < a.booked_at
         and h.status in ('arrived', 'completed', 'no_show')
    ) as hist on a.customer_id is not null
    left join lateral (
      select bool_or(h.status = 'no_show') as missed
        from slotoptim_private.appointment as h
       where h.customer_id = a.customer_id
         and h.id <> a.id
         and lower(h.period) = hist.last_start
         and h.status in ('arrived', 'completed', 'no_show')
    ) as last_visit on hist.last_start is not null
    left join lateral (
      select count(*)::integer as n
        from slotoptim_private.appointment as h
       where h.customer_id = a.customer_id
         and h.id <> a.id
         and h.status = 'cancelled'
         and h.cancelled_at < a.booked_at
    ) as cancels on a.customer_id is not null
   where (p_org_id is null or a.org_id = p_org_id)
     and (p_appointment_ids is null or a.id = any (p_appointment_ids))
     -- A booking made after p_at does not exist yet at p_at.
     and a.booked_at <= p_at
   order by lower(a.period), a.id;
$$;

comment on function slotoptim_private.noshow_features(bigint, timestamptz, bigint[]) is
  'No-show features of appointments as known at booking time (history strictly before booked_at), with the label for past ones.';

-- The same for analysts, with keys: the current organisation's appointments (all organisations' when
-- none is set) booked by `at`.
create or replace function slotoptim.noshow_features(at timestamptz default now())
returns table (
  appointment_id bigint,
  org_key text,
  appointment_key text,
  provider_key text,
  service_key text,
  customer_key text,
  status text,
  starts_at timestamptz,
  booked_at timestamptz,
  lead_days integer,
  same_day boolean,
  weekday smallint,
  start_hour real,
  booked_weekday smallint,
  booked_hour real,
  age integer,
  age_band smallint,
  prior_visits integer,
  prior_no_shows integer,
  prior_cancellations integer,
  prior_no_show_rate real,
  days_since_last_visit integer,
  last_visit_no_show boolean,
  new_customer boolean,
  sms_reminder boolean,
  service_minutes integer,
  no_show boolean
)
language sql
stable
set search_path = ''
as $$
  select f.appointment_id, o.key, a.key, p.key, s.key, c.key, f.status, f.starts_at, f.booked_at,
         f.lead_days, f.same_day, f.weekday, f.start_hour, f.booked_weekday, f.booked_hour, f.age, f.age_band,
         f.prior_visits, f.prior_no_shows, f.prior_cancellations, f.prior_no_show_rate, f.days_since_last_visit,
         f.last_visit_no_show, f.new_customer, f.sms_reminder, f.service_minutes, f.no_show
    from slotoptim_private.noshow_features(slotoptim_private.current_org(), noshow_features.at) as f
    join slotoptim_private.organisation as o on o.id = f.org_id
    join slotoptim_private.appointment as a on a.id = f.appointment_id
    join slotoptim_private.provider as p on p.id = f.provider_id
    join slotoptim_private.service as s on s.id = f.service_id
    left join slotoptim_private.customer as c on c.id = f.customer_id
   order by f.starts_at, f.appointment_id;
$$;

comment on function slotoptim.noshow_features(timestamptz) is
  'No-show features as known at booking time, per appointment booked by `at`, with the label for past ones.';
