-- Records open gaps for time a provider just got back (a cancellation, a reschedule, a shortened
-- appointment). The freed time is merged with the adjacent free time: each maximal free interval
-- that touches it (looked for within the organisation's gap_merge_window around it, and never
-- before p_at) becomes one open gap, superseding live gaps it overlaps. Each new gap sends a NOTIFY
-- on channel slotoptim_gap that carries ids only: it wakes listeners, the row is the record.
create or replace function slotoptim_private.open_gaps(
  p_provider_id bigint,
  p_freed tstzmultirange,
  p_source_appointment_id bigint,
  p_at timestamptz
)
returns setof bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org_id bigint;
  v_merge interval;
  v_freed tstzmultirange;
  v_window tstzrange;
  v_gap tstzrange;
  v_kind text;
  v_fits text[];
  v_new_id bigint;
begin
  select p.org_id, coalesce(st.gap_merge_window, interval '1 day')
    into v_org_id, v_merge
    from slotoptim_private.provider as p
    left join slotoptim_private.organisation_settings as st on st.org_id = p.org_id
   where p.id = p_provider_id;
  if v_org_id is null then
    return;
  end if;

  -- Only the future can be filled.
  v_freed := p_freed * pg_catalog.tstzmultirange(pg_catalog.tstzrange(p_at, null, '[)'));
  if isempty(v_freed) then
    return;
  end if;
  v_window := pg_catalog.tstzrange(greatest(p_at, lower(v_freed) - v_merge), upper(v_freed) + v_merge, '[)');

  for v_gap in
    select g.during
      from slotoptim_private.free_time(array[p_provider_id], v_window) as f
      cross join lateral unnest(f.free) as g(during)
     where pg_catalog.tstzmultirange(g.during) && v_freed
     order by lower(g.during)
  loop
    v_fits := slotoptim_private.fitting_services(p_provider_id, v_gap);
    v_kind := case when cardinality(v_fits) > 0 then 'bookable' else 'fragment' end;

    -- Live gaps inside this maximal interval are superseded by it (the exclusion constraint
    -- gap_live_no_overlap would refuse two live gaps over the same time).
    update slotoptim_private.gap
       set status = 'merged', closed_at = p_at
     where provider_id = p_provider_id
       and status in ('open', 'offering')
       and during && v_gap;

    insert into slotoptim_private.gap (org_id, provider_id, during, kind, fits, status, source_appointment_id, opened_at)
    values (v_org_id, p_provider_id, v_gap, v_kind, v_fits, 'open', p_source_appointment_id, p_at)
    returning id into v_new_id;

    update slotoptim_private.gap
       set merged_into = v_new_id
     where provider_id = p_provider_id
       and status = 'merged'
       and merged_into is null
       and closed_at = p_at
       and during && v_gap;

    -- Offers of a merged gap stay valid (their slots lie inside the new gap): the oldest live
    -- campaign moves over with its offers; any other is cancelled and its offers withdrawn.
    perform slotoptim_private.retract_offers(c.gap_id, 'retracted', p_at)
       from slotoptim_private.offer_campaign as c
       join slotoptim_private.gap as old on old.id = c.gap_id and old.merged_into = v_new_id
      where c.status in ('running', 'awaiting_approval')
        and c.id <> (select min(c2.id) from slotoptim_private.offer_campaign as c2
                       join slotoptim_private.gap as g2 on g2.id = c2.gap_id and g2.merged_into = v_new_id
                      where c2.status in ('running', 'awaiting_approval'));
    update slotoptim_private.offer_campaign as c
       set status = 'cancelled', closed_at = p_at, next_action_at = null,
           status_reason = format('cancelled: its gap merged into gap %s, offered by an older campaign', v_new_id)
      from slotoptim_private.gap as old
     where old.id = c.gap_id and old.merged_into = v_new_id
       and c.status in ('running', 'awaiting_approval')
       and c.id <> (select min(c2.id) from slotoptim_private.offer_campaign as c2
                      join slotoptim_private.gap as g2 on g2.id = c2.gap_id and g2.merged_into = v_new_id
                     where c2.status in ('running', 'awaiting_approval'));
    update slotoptim_private.offer as o
       set gap_id = v_new_id
      from slotoptim_private.offer_campaign as c
      join slotoptim_private.gap as old on old.id = c.gap_id and old.merged_into = v_new_id
     where o.campaign_id = c.id and c.status in ('running', 'awaiting_approval');
    update slotoptim_private.offer_campaign as c
       set gap_id = v_new_id, next_action_at = p_at,
           status_reason = format('moved: its gap merged into gap %s', v_new_id)
      from slotoptim_private.gap as old
     where old.id = c.gap_id and old.merged_into = v_new_id
       and c.status in ('running', 'awaiting_approval');
    update slotoptim_private.gap
       set status = 'offering'
     where id = v_new_id
       and exists (select 1 from slotoptim_private.offer_campaign as c
                    where c.gap_id = v_new_id and c.status in ('running', 'awaiting_approval'));

    perform pg_catalog.pg_notify(
      slotoptim_private.engine_channel('gap'),
      pg_catalog.json_build_object('v', 1, 'type', 'gap_opened', 'gap_id', v_new_id, 'org_id', v_org_id)::text
    );
    return next v_new_id;
  end loop;
end;
$$;

-- A blocking appointment now covers part of some live gaps: they are filled, and what is left of
-- them (if anything) opens again as smaller gaps.
create or replace function slotoptim_private.consume_gaps(p_appointment_id bigint, p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_appointment slotoptim_private.appointment;
  v_gap slotoptim_private.gap;
  v_pieces bigint[];
begin
  select * into v_appointment from slotoptim_private.appointment where id = p_appointment_id;
  for v_gap in
    update slotoptim_private.gap
       set status = 'filled', closed_at = p_at
     where provider_id = v_appointment.provider_id
       and status in ('open', 'offering')
       and during && v_appointment.blocked
    returning *
  loop
    -- Whoever was offered this gap hears it is gone; its campaign ends. A claim leaves that to the
    -- engine, after its commit (slotoptim_private.retract_claimed_gap): its winner does not wait
    -- for the losers' offers and messages (sql/56_fn_claims.sql, book_offer).
    if pg_catalog.current_setting('slotoptim.retract_after_commit', true) = 'on' then
      if exists (select 1 from slotoptim_private.offer as o
                  where o.gap_id = v_gap.id and o.status in ('open', 'awaiting_approval')) then
        insert into slotoptim_private.offer_retraction (org_id, gap_id, kind, at, actor)
        values (v_gap.org_id, v_gap.id, 'filled', p_at,
                nullif(pg_catalog.current_setting('slotoptim.actor', true), ''));
        perform pg_catalog.pg_notify(slotoptim_private.engine_channel('outbox'),
          pg_catalog.json_build_object('v', 1, 'type', 'retraction_queued', 'gap_id', v_gap.id)::text);
      end if;
    else
      perform slotoptim_private.retract_offers(v_gap.id, 'filled', p_at);
    end if;
    update slotoptim_private.offer_campaign
       set status = 'filled', closed_at = p_at, next_action_at = null,
           status_reason = format('filled: appointment %s took the gap', p_appointment_id)
     where gap_id = v_gap.id and status in ('running', 'awaiting_approval');
    -- The pieces belong to the freed interval this gap came from: they are not new gaps (unless
    -- one swallowed a live gap of another freed interval, which then lives on in it).
    v_pieces := array(select slotoptim_private.open_gaps(
                        v_gap.provider_id,
                        pg_catalog.tstzmultirange(v_gap.during) - pg_catalog.tstzmultirange(v_appointment.blocked),
                        v_gap.source_appointment_id,
                        p_at));
    update slotoptim_private.gap as g
       set split_from = coalesce(v_gap.split_from, v_gap.id)
     where g.id = any (v_pieces)
       and not exists (select 1 from slotoptim_private.gap as x
                        where x.merged_into = g.id
                          and coalesce(x.split_from, x.id) <> coalesce(v_gap.split_from, v_gap.id));
  end loop;
end;
$$;
