begin;
select plan(5);
select tests.make_practice();

insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)
select id, 'new customers', true, 15 from slotoptim_private.organisation;
insert into slotoptim_private.buffer_rule (org_id, name, when_min_complexity, extra_minutes)
select id, 'complex work', 3, 10 from slotoptim_private.organisation;

select results_eq(
  $$select e.part, e.name, e.minutes from slotoptim_private.buffer_explained(
      (select id from slotoptim_private.service where key = 'short'),
      (select id from slotoptim_private.provider where key = 'dr-a'),
      (select id from slotoptim_private.customer where key = 'c1'), '2026-11-24 10:00-05') as e order by e.part, e.name$$,
  $$values ('base', 'service default', 5), ('rule', 'new customers', 15)$$,
  'a new customer: the default and the rule that adds 15, by name');

select results_eq(
  $$select e.part, e.name, e.minutes from slotoptim_private.buffer_explained(
      (select id from slotoptim_private.service where key = 'long'),
      (select id from slotoptim_private.provider where key = 'dr-a')) as e order by e.part, e.name$$,
  $$values ('base', 'service default', 10), ('rule', 'complex work', 10)$$,
  'an unknown customer: no customer rule');

update slotoptim_private.organisation_settings set max_buffer_minutes = 12;
select results_eq(
  $$select e.part, e.minutes from slotoptim_private.buffer_explained(
      (select id from slotoptim_private.service where key = 'long'),
      (select id from slotoptim_private.provider where key = 'dr-a')) as e where e.part = 'cap'$$,
  $$values ('cap', -8)$$,
  'the cap shows as the minutes it took away');

-- Every service, with and without the customer: the parts add up to buffer_after.
select is(
  (select count(*)::integer
     from slotoptim_private.service as s
     cross join slotoptim_private.provider as p
     cross join (values (null::bigint), ((select id from slotoptim_private.customer where key = 'c1'))) as c(id)
    where (select sum(e.minutes) from slotoptim_private.buffer_explained(s.id, p.id, c.id, '2026-11-24 10:00-05') as e)
          is distinct from slotoptim_private.buffer_after(s.id, p.id, c.id, '2026-11-24 10:00-05')),
  0, 'the parts add up to buffer_after, capped or not');

update slotoptim_private.organisation_settings set max_buffer_minutes = 60;
select is(
  (select count(*)::integer
     from slotoptim_private.service as s
     cross join slotoptim_private.provider as p
     cross join (values (null::bigint), ((select id from slotoptim_private.customer where key = 'c1'))) as c(id)
    where (select sum(e.minutes) from slotoptim_private.buffer_explained(s.id, p.id, c.id, '2026-11-24 10:00-05') as e)
          is distinct from slotoptim_private.buffer_after(s.id, p.id, c.id, '2026-11-24 10:00-05')),
  0, 'and without a cap');

select * from finish();
rollback;
