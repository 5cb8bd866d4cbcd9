begin;
select plan(4);
select tests.make_practice();
select tests.book('2026-11-24 10:00-05');          -- blocks 10:00-10:20
select tests.book('2026-11-24 16:30-05');          -- blocks 16:30-16:50

-- Clients read starts_at and ends_at instead of taking the range apart.
select is(
  (select array_agg(row(starts_at, ends_at)::text order by starts_at)
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  array[row(timestamptz '2026-11-24 09:00-05', timestamptz '2026-11-24 10:00-05')::text,
        row(timestamptz '2026-11-24 10:20-05', timestamptz '2026-11-24 16:30-05')::text,
        row(timestamptz '2026-11-24 16:50-05', timestamptz '2026-11-24 17:00-05')::text],
  'starts_at and ends_at are the gaps'' bounds');

select is(
  (select count(*)::int
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 09:30-05', '2026-11-24 16:55-05'))
    where starts_at is distinct from lower(during) or ends_at is distinct from upper(during)),
  0, 'they equal lower(during) and upper(during), clipped windows included');

select is(
  (select count(*)::int
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'), 'c1')
    where starts_at is distinct from lower(during) or ends_at is distinct from upper(during)),
  0, 'with a customer too');

select is(
  (select array_agg(row(provider_key, starts_at, ends_at)::text order by starts_at)
     from slotoptim.gaps(tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  (select array_agg(row(provider_key, starts_at, ends_at)::text order by starts_at)
     from slotoptim.gaps('dr-a', tstzrange('2026-11-24 00:00-05', '2026-11-25 00:00-05'))),
  'the all-providers form gives the same bounds');

select * from finish();
rollback;
