-- Where the fill engine may place an offered slot: on a grid of the provider's local wall clock
-- (every slot_grid_minutes from local midnight), so an offer never starts at 03:31:01.826949.
-- A divisor of a day keeps the grid the same every day.
alter table slotoptim_private.organisation_settings
  add column if not exists slot_grid_minutes integer not null default 5
    constraint settings_slot_grid_range check (slot_grid_minutes between 1 and 240 and 1440 % slot_grid_minutes = 0);

-- What is left of a gap when a booking takes part of it opens as new gaps; they remember the gap
-- whose freed interval they belong to (the first of the line), so fill rates count freed
-- intervals, not pieces (slotoptim.fill_kpis).
alter table slotoptim_private.gap
  add column if not exists split_from bigint references slotoptim_private.gap (id);

-- Why a campaign is where it is (started, a wave, released, expired, filled, cancelled): the
-- audit trail records it with every change of status or wave, so a practice can read why a gap
-- got no offers.
alter table slotoptim_private.offer_campaign
  add column if not exists status_reason text
    constraint campaign_status_reason_length check (length(status_reason) <= 500);
