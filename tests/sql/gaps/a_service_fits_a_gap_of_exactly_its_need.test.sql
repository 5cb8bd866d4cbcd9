begin;
select plan(2);
select tests.make_practice();                      -- short needs 15 + 5 minutes, long 60 + 10
select tests.book('2026-11-24 10:00-05');          -- blocks 10:00-10:20
select tests.book('2026-11-24 11:30-05');          -- 10:20-11:30: 70 minutes
select tests.book('2026-11-24 12:59-05');          -- 11:50-12:59: 69 minutes
select tests.book('2026-11-24 13:39-05');          -- 13:19-13:39: 20 minutes
select tests.book('2026-11-24 14:18-05');          -- 13:59-14:18: 19 minutes

-- The fitting services come from each length at which the set changes: the edges must hold.
select is(
  (select array_agg(row(starts_at, kind, fits)::text order by starts_at)
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  array[row(timestamptz '2026-11-24 09:00-05', 'bookable', array['short'])::text,
        row(timestamptz '2026-11-24 10:20-05', 'bookable', array['long', 'short'])::text,
        row(timestamptz '2026-11-24 11:50-05', 'bookable', array['short'])::text,
        row(timestamptz '2026-11-24 13:19-05', 'bookable', array['short'])::text,
        row(timestamptz '2026-11-24 13:59-05', 'fragment', '{}'::text[])::text,
        row(timestamptz '2026-11-24 14:38-05', 'bookable', array['long', 'short'])::text],
  'a service fits a gap of exactly its minutes plus buffer, not one minute less');

-- A provider offering no service has only fragments.
delete from slotoptim_private.provider_service;
select is(
  (select array_agg(distinct row(kind, fits)::text)
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  array[row('fragment', '{}'::text[])::text],
  'without services every gap is a fragment');

select * from finish();
rollback;
