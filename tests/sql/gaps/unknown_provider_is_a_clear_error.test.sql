begin;
select plan(2);
select tests.make_practice('acme');
select tests.make_practice('other');

select throws_ok($$ select * from slotoptim.gaps('nobody', tstzrange(now(), now() + interval '1 day')) $$,
  'P0002', 'unknown provider ''nobody''', 'an unknown provider key is named in the error');
select throws_ok($$ select * from slotoptim.gaps('dr-a', tstzrange(now(), now() + interval '1 day')) $$,
  '22023', null, 'a key shared by two organisations must be qualified');

select * from finish();
rollback;
