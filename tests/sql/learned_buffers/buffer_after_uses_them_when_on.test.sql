begin;
select plan(7);
select tests.make_practice();

-- A learned buffer for "short" (default 5) at service level.
insert into slotoptim_private.learned_buffer (org_id, service_id, provider_id, minutes, quantile, overrun_minutes, n, computed_at)
select s.org_id, s.id, null, 12, 0.8, 11.3, 40, '2026-11-20 00:00-05' from slotoptim_private.service s where s.key = 'short';

select is(slotoptim_private.buffer_after(s.id, p.id), 5, 'off (the default): the service default, as before')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'short' and p.key = 'dr-a';

update slotoptim_private.learning_settings set use_learned_buffers = true;
select is(slotoptim_private.buffer_after(s.id, p.id), 12, 'on: the service''s learned buffer replaces its default')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'short' and p.key = 'dr-a';

insert into slotoptim_private.learned_buffer (org_id, service_id, provider_id, minutes, quantile, overrun_minutes, n, computed_at)
select s.org_id, s.id, p.id, 17, 0.8, 16.2, 25, '2026-11-20 00:00-05'
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'short' and p.key = 'dr-a';
select is(slotoptim_private.buffer_after(s.id, p.id), 17, 'the provider''s own learned buffer comes before the service''s')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'short' and p.key = 'dr-a';

select is(slotoptim_private.buffer_after(s.id, p.id), 10, 'a service without a learned buffer keeps its default')
  from slotoptim_private.service s, slotoptim_private.provider p where s.key = 'long' and p.key = 'dr-a';

insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)
select id, 'new customers', true, 15 from slotoptim_private.organisation;
select is(slotoptim_private.buffer_after(s.id, p.id, c.id, '2026-11-24 10:00-05'), 32, 'rules still add to a learned buffer')
  from slotoptim_private.service s, slotoptim_private.provider p, slotoptim_private.customer c
 where s.key = 'short' and p.key = 'dr-a' and c.key = 'c1';

update slotoptim_private.organisation_settings set max_buffer_minutes = 20;
select is(slotoptim_private.buffer_after(s.id, p.id, c.id, '2026-11-24 10:00-05'), 20, 'the organisation maximum still caps')
  from slotoptim_private.service s, slotoptim_private.provider p, slotoptim_private.customer c
 where s.key = 'short' and p.key = 'dr-a' and c.key = 'c1';

select tests.book('2026-11-24 10:00-05', 'short');
select is((select buffer_after_minutes from slotoptim_private.appointment), 17,
  'a booking takes the learned buffer through the same function');

select * from finish();
rollback;
