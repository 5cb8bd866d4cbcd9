begin;
select plan(9);
select tests.make_practice();
insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, not_before, created_at)
select c.org_id, c.id, 'booked', 'sms', c.phone, '2026-11-24 09:00-05', '2026-11-24 09:00-05'
  from slotoptim_private.customer as c where c.key = 'c1';

select is((select count(*)::int from slotoptim.claim_messages('a', 10, '2026-11-24 09:00-05', interval '60 seconds')),
          1, 'sender a claims the message');
select ok(slotoptim.message_attempt((select id from slotoptim_private.message), 'a',
                                    'e3b0c442-98fc-4c14-9afb-f4c8996fb924', 'Hello', '2026-11-24 09:00:50-05'),
          'a records its attempt before calling the provider');
select is((select body from slotoptim_private.message), 'Hello', 'the body is stored before the call');
select is((select count(*)::int from slotoptim.claim_messages('b', 10, '2026-11-24 09:01:10-05', interval '60 seconds')),
          0, 'the attempt extended the lease: b cannot take the row mid-call');
select ok(not slotoptim.message_attempt((select id from slotoptim_private.message), 'b',
                                        'a3b0c442-98fc-4c14-9afb-f4c8996fb924', 'Hello', '2026-11-24 09:01:10-05'),
          'a sender that does not hold the row may not call the provider');

-- a dies mid-call: after the lease, b takes the row with the attempt still set.
select is((select attempt_id::text from slotoptim.claim_messages('b', 10, '2026-11-24 09:02-05', interval '60 seconds')),
          'e3b0c442-98fc-4c14-9afb-f4c8996fb924', 'the next sender sees the call of unknown outcome');
select ok(slotoptim.message_in_doubt((select id from slotoptim_private.message), 'unconfirmed: 500',
                                     '2026-11-24 09:03-05'),
          'an ambiguous outcome requeues the row');
select is((select attempt_id is not null and status = 'queued' from slotoptim_private.message), true,
          'still in doubt: the next try must ask the provider first');
select slotoptim.claim_messages('b', 10, '2026-11-24 09:03-05', interval '60 seconds');
select slotoptim.message_sent((select id from slotoptim_private.message), 'SM0123', null, '2026-11-24 09:03:01-05');
select is((select attempt_id is null and status = 'sent' from slotoptim_private.message), true,
          'recorded as sent, nothing left in doubt');

select * from finish();
rollback;
