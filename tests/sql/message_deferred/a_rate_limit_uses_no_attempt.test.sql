begin;
select plan(4);
select tests.make_practice();
insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, not_before, created_at)
select c.org_id, c.id, 'booked', 'sms', c.phone, '2026-11-24 09:00-05', '2026-11-24 09:00-05'
  from slotoptim_private.customer as c where c.key = 'c1';

select slotoptim.claim_messages('a', 10, '2026-11-24 09:00-05');
select slotoptim.message_attempt((select id from slotoptim_private.message), 'a',
                                 'e3b0c442-98fc-4c14-9afb-f4c8996fb924', 'Hello', '2026-11-24 09:00-05');
select ok(slotoptim.message_deferred((select id from slotoptim_private.message), '20429 Too Many Requests',
                                     '2026-11-24 09:00:30-05'),
          'a 429 requeues the message');
select is((select status || ' ' || attempts || ' ' || (not_before = '2026-11-24 09:00:30-05')
             from slotoptim_private.message),
          'queued 0 true', 'queued again at Retry-After, and the attempt does not count');
select is((select attempt_id from slotoptim_private.message), null, 'a refused call leaves nothing in doubt');

-- Held back before an earlier doubt was cleared: the doubt stays.
select slotoptim.claim_messages('a', 10, '2026-11-24 09:00:30-05');
select slotoptim.message_attempt((select id from slotoptim_private.message), 'a',
                                 'a3b0c442-98fc-4c14-9afb-f4c8996fb924', 'Hello', '2026-11-24 09:00:30-05');
select slotoptim.message_deferred((select id from slotoptim_private.message), 'rate limited before reconciling',
                                  '2026-11-24 09:00:35-05', false);
select is((select attempt_id::text from slotoptim_private.message), 'a3b0c442-98fc-4c14-9afb-f4c8996fb924',
          'not settled: the attempt stays for the next try to reconcile');

select * from finish();
rollback;
