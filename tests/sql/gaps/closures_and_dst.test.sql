begin;
select plan(4);
select tests.make_practice();

insert into slotoptim_private.closure (org_id, provider_id, during, reason)
select org_id, id, tstzrange('2026-11-25 12:00-05', '2026-11-25 13:00-05'), 'lunch meeting'
  from slotoptim_private.provider where key = 'dr-a';

select is(
  (select array_agg(during order by lower(during))
     from slotoptim.gaps('dr-a', tstzrange('2026-11-25 00:00-05', '2026-11-26 00:00-05'))),
  array[tstzrange('2026-11-25 09:00-05', '2026-11-25 12:00-05'),
        tstzrange('2026-11-25 13:00-05', '2026-11-25 17:00-05')],
  'a provider closure is not working time');

insert into slotoptim_private.closure (org_id, during, reason)
select id, tstzrange('2026-11-26 00:00-05', '2026-11-27 00:00-05'), 'Thanksgiving'
  from slotoptim_private.organisation where key = 'acme';
select is(
  (select count(*)::int from slotoptim.gaps('dr-a', tstzrange('2026-11-26 00:00-05', '2026-11-27 00:00-05'))),
  0, 'an organisation-wide closure removes the whole day');

-- Monday 2026-11-02 is the first weekday after the fall-back transition (Nov 1): 09:00 is now -05.
select is(
  (select during from slotoptim.gaps('dr-a', tstzrange('2026-11-02 00:00-05', '2026-11-03 00:00-05'))),
  tstzrange('2026-11-02 14:00+00', '2026-11-02 22:00+00'),
  'local 09:00-17:00 after the DST change is 14:00-22:00 UTC');
select is(
  (select during from slotoptim.gaps('dr-a', tstzrange('2026-10-30 00:00-04', '2026-10-31 00:00-04'))),
  tstzrange('2026-10-30 13:00+00', '2026-10-30 21:00+00'),
  'local 09:00-17:00 before the DST change is 13:00-21:00 UTC');

select * from finish();
rollback;
