begin;
select plan(5);
select tests.make_practice();

select is(slotoptim_private.buffer_after(s.id, p.id), 5, 'no rules: the service default')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'short' and p.key = 'dr-a';

insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)
select id, 'new customers', true, 15 from slotoptim_private.organisation;
insert into slotoptim_private.buffer_rule (org_id, name, when_min_complexity, extra_minutes)
select id, 'complex work', 3, 10 from slotoptim_private.organisation;

select is(slotoptim_private.buffer_after(s.id, p.id, c.id, '2026-11-24 10:00-05'), 20, 'a new customer adds 15')
  from slotoptim_private.service s, slotoptim_private.provider p, slotoptim_private.customer c
 where s.key = 'short' and p.key = 'dr-a' and c.key = 'c1';
select is(slotoptim_private.buffer_after(s.id, p.id), 20, 'complexity 4 adds 10 to the default 10')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'long' and p.key = 'dr-a';

update slotoptim_private.organisation_settings set max_buffer_minutes = 12;
select is(slotoptim_private.buffer_after(s.id, p.id), 12, 'the organisation maximum caps the total')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'long' and p.key = 'dr-a';

select tests.book('2026-11-24 10:00-05', 'long', 'c1');
select is((select buffer_after_minutes from slotoptim_private.appointment), 12,
  'a booking takes its buffer from the same function');

select * from finish();
rollback;
