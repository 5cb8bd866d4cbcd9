-- Move-up measures (issue 12): days gained per move (Epic Fast Pass reports "a median 14 days
-- sooner") and chain length (one cancellation filled by a chain of moves).

create or replace view slotoptim.moveup_chains with (security_invoker = true) as
select o.key as org_key,
       m.chain_root_gap_id,
       min(m.moved_at) as started_at,
       max(m.chain_position)::integer as chain_length,
       count(*)::integer as moves,
       round(sum(extract(epoch from m.from_start - m.to_start) / 86400)::numeric, 1) as days_gained
  from slotoptim_private.moveup_move as m
  join slotoptim_private.organisation as o on o.id = m.org_id
 group by o.key, m.chain_root_gap_id;

comment on view slotoptim.moveup_chains is
  'One row per move-up chain: the cancellation''s gap that started it, its length and the days its moves gained.';
comment on column slotoptim.moveup_chains.org_key is 'The organisation.';
comment on column slotoptim.moveup_chains.chain_root_gap_id is 'The gap the chain began with (a cancellation, not a move).';
comment on column slotoptim.moveup_chains.started_at is 'When the chain''s first move was claimed.';
comment on column slotoptim.moveup_chains.chain_length is 'The longest position reached: moves one after another from that gap.';
comment on column slotoptim.moveup_chains.moves is 'Moves recorded in the chain.';
comment on column slotoptim.moveup_chains.days_gained is 'Days earlier, summed over the chain''s moves.';

create or replace view slotoptim.moveup_kpis with (security_invoker = true) as
select o.key as org_key,
       count(m.id)::integer as moves,
       count(distinct m.chain_root_gap_id)::integer as chains,
       coalesce(max(m.chain_position), 0)::integer as longest_chain,
       round(count(m.id)::numeric / nullif(count(distinct m.chain_root_gap_id), 0), 2) as moves_per_chain,
       round(sum(extract(epoch from m.from_start - m.to_start) / 86400)::numeric, 1) as days_gained,
       round((percentile_cont(0.5) within group (order by extract(epoch from m.from_start - m.to_start) / 86400))::numeric,
             1) as median_days_gained,
       (select count(*)::integer from slotoptim_private.waitlist_entry as w
         where w.org_id = o.id and w.moveup_appointment_id is not null and w.status = 'active') as enrolled
  from slotoptim_private.organisation as o
  left join slotoptim_private.moveup_move as m on m.org_id = o.id
 group by o.id, o.key;

comment on view slotoptim.moveup_kpis is 'Move-up per organisation: moves, chains, days gained (total and median per move).';
comment on column slotoptim.moveup_kpis.org_key is 'The organisation.';
comment on column slotoptim.moveup_kpis.moves is 'Claimed move-ups.';
comment on column slotoptim.moveup_kpis.chains is 'Chains (cancellations whose gap started at least one move).';
comment on column slotoptim.moveup_kpis.longest_chain is 'The longest chain''s length.';
comment on column slotoptim.moveup_kpis.moves_per_chain is 'moves / chains.';
comment on column slotoptim.moveup_kpis.days_gained is 'Days earlier, summed over all moves.';
comment on column slotoptim.moveup_kpis.median_days_gained is 'Median days earlier per move.';
comment on column slotoptim.moveup_kpis.enrolled is 'Appointments enrolled in move-up now.';

-- Front-desk work from reminders: calls to high-risk customers and reschedule requests.
create or replace view slotoptim.staff_tasks with (security_invoker = true) as
select o.key as org_key, t.id as task_id, t.kind, t.due_at, t.done_at, a.id as appointment_id,
       lower(a.period) as appointment_start, c.key as customer_key
  from slotoptim_private.staff_task as t
  join slotoptim_private.organisation as o on o.id = t.org_id
  join slotoptim_private.appointment as a on a.id = t.appointment_id
  left join slotoptim_private.customer as c on c.id = a.customer_id;

comment on view slotoptim.staff_tasks is 'Front-desk tasks from reminders: reminder calls (high no-show risk, outreach only) and reschedule requests.';
comment on column slotoptim.staff_tasks.org_key is 'The organisation.';
comment on column slotoptim.staff_tasks.task_id is 'The task.';
comment on column slotoptim.staff_tasks.kind is 'reminder_call or reschedule.';
comment on column slotoptim.staff_tasks.due_at is 'When to act.';
comment on column slotoptim.staff_tasks.done_at is 'When staff marked it done; null while open.';
comment on column slotoptim.staff_tasks.appointment_id is 'The appointment concerned.';
comment on column slotoptim.staff_tasks.appointment_start is 'When the appointment starts.';
comment on column slotoptim.staff_tasks.customer_key is 'The customer to call.';
