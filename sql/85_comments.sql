-- COMMENTs on the public surface (schema slotoptim) that its files do not give beside their
-- definitions: functions, views and every view column, so \df+ and \d+ explain themselves.
-- tests/py/test_catalogue_comments.py fails when a function, view or view column has none:
-- comment new objects beside their definition (or here).

comment on function slotoptim.alternatives(bigint, timestamptz) is
  'Up to three other live gaps the waitlist entry behind an offer qualifies for, soonest first, as of `at`: what a late claimant is shown instead.';
comment on function slotoptim.claim_messages(text, integer, timestamptz, interval) is
  'Outbox: leases up to max_messages due messages to a sender worker until at + lease (SKIP LOCKED); messages whose customer opted out or lost consent for the channel are cancelled instead.';
comment on function slotoptim.decide_claim(bigint, boolean, timestamptz) is
  'Staff approve or refuse a claim under the staff_approval strategy; returns the outcome and the booked appointment.';
comment on function slotoptim.decline_offer(bigint, bigint, timestamptz) is
  'The customer says no to an offer: the waitlist entry records it and the campaign may move on at once. False when the offer is not theirs or not open.';
comment on function slotoptim.inbound_text(bigint, text, text, timestamptz) is
  'An inbound text already classified (stop, start, help, yes, other) from a phone of the organisation: opt-out everywhere, opt-in, or a claim of the latest open offer; returns what was done.';
comment on function slotoptim.message_failed(bigint, text, boolean, timestamptz, boolean, timestamptz) is
  'Outbox: a send failed. Transient: retried at retry_at up to the attempt limit; permanent or out of attempts: failed, and an offer falls back to the next consented channel. opt_out: the recipient unsubscribed.';
comment on function slotoptim.message_sent(bigint, text, text, timestamptz) is
  'Outbox: the message went out; records the provider''s message id (unique) and the body sent.';
comment on function slotoptim.message_status(text, text, timestamptz) is
  'Outbox: a delivery status from the provider''s callback, by the provider''s message id (idempotent).';

comment on view slotoptim.appointments is
  'Every appointment of the reader''s organisation with its keys, period, local start, status, buffer and no-show risk.';
comment on view slotoptim.buffer_rules is
  'Rules that add buffer minutes after an appointment when all their conditions match (capped by the organisation''s max_buffer_minutes).';
comment on view slotoptim.demand_forecasts is
  'Stored demand forecasts (slotoptim ml forecast): expected appointments per provider, service, local day and hour.';
comment on view slotoptim.demand_heatmap is
  'Per provider, ISO weekday and local hour: forecast demand against working capacity, and their ratio (above 1: more demand than time).';
comment on view slotoptim.learned_buffers is
  'Buffers learned from actual durations (slotoptim ml buffers) next to the service default they replace when in use.';
comment on view slotoptim.learning_settings is
  'Per-organisation knobs of the learning jobs: risk threshold, overbooking costs, learned-buffer quantile and cap.';
comment on view slotoptim.model_versions is
  'Trained models (no-show, forecast) without their artifact: when, on what, how well, and which one is active.';
comment on view slotoptim.notification_fatigue is
  'Customers on the waitlist with their offers and ignored offers of the last 30 days, and whether the fatigue rule now holds offers back.';
comment on view slotoptim.offer_funnel is
  'Offers made, sent, delivered, clicked, claimed, declined, expired and retracted per strategy and channel, all days summed.';
comment on view slotoptim.open_gaps is
  'Gaps the fill engine knows of (open, offering, filled, expired...), with their length, kind and the services that fit.';
comment on view slotoptim.providers is
  'Providers of the practice with their time zone, location and the services they offer.';
comment on view slotoptim.recommended_template is
  'The active recommended weekly slot template (slotoptim optimize template): slots per provider, local weekday, hour and service.';
comment on view slotoptim.revenue_recovered is
  'Appointments booked through an offer and their price, per provider and local day: money won back.';
comment on view slotoptim.services is
  'Services of the practice with their length, price, default buffer, category and complexity.';
comment on view slotoptim.waitlist is
  'Waitlist entries: who waits for which services and providers, on which days, in which local time window, with their offer history.';
comment on view slotoptim.weekly_demand_forecast is
  'Weekly (Monday to Sunday) totals of the daily demand forecast; days_covered below 7 marks a week the horizon covers in part.';
comment on view slotoptim.working_hours is
  'Weekly working hours per provider, local wall-clock time in the provider''s time zone.';

-- slotoptim.appointments
comment on column slotoptim.appointments.id is 'appointment id';
comment on column slotoptim.appointments.org_key is 'the organisation''s key';
comment on column slotoptim.appointments.appointment_key is 'the practice''s own key of the appointment, if any';
comment on column slotoptim.appointments.provider_key is 'the provider''s key';
comment on column slotoptim.appointments.service_key is 'the service''s key';
comment on column slotoptim.appointments.customer_key is 'the customer''s key';
comment on column slotoptim.appointments.period is '[start, end) of the appointment itself, without the buffer';
comment on column slotoptim.appointments.starts_local is 'start in the provider''s local wall-clock time';
comment on column slotoptim.appointments.status is 'booked, confirmed, arrived, completed, cancelled or no_show';
comment on column slotoptim.appointments.source is 'where the booking came from: staff, import, waitlist (an offer) or portal';
comment on column slotoptim.appointments.buffer_after_minutes is 'buffer after the appointment, minutes (rules applied when it was booked)';
comment on column slotoptim.appointments.blocked is '[start, end + buffer): the time it keeps the provider from other bookings, null when it does not block';
comment on column slotoptim.appointments.booked_at is 'when it was booked';
comment on column slotoptim.appointments.cancelled_at is 'when it was cancelled, if it was';
comment on column slotoptim.appointments.no_show_risk is 'predicted probability of a no-show (slotoptim ml score), null until scored';
comment on column slotoptim.appointments.price is 'the service''s price, in the organisation''s currency';
-- slotoptim.audit_trail
comment on column slotoptim.audit_trail.id is 'audit event id';
comment on column slotoptim.audit_trail.org_key is 'the organisation''s key';
comment on column slotoptim.audit_trail.seq is 'position in the organisation''s hash chain (1, 2, ...)';
comment on column slotoptim.audit_trail.at is 'when the change was made';
comment on column slotoptim.audit_trail.actor_kind is 'who acted: api_key, user (an OIDC subject) or system';
comment on column slotoptim.audit_trail.actor_id is 'the actor''s id (an API key id, an OIDC subject, a database role)';
comment on column slotoptim.audit_trail.actor_address is 'the client address of the request, when there was one';
comment on column slotoptim.audit_trail.entity is 'the table changed (slotoptim_private)';
comment on column slotoptim.audit_trail.entity_id is 'the changed row''s id';
comment on column slotoptim.audit_trail.action is 'insert, update or delete';
comment on column slotoptim.audit_trail.old_values is 'the audited columns before the change (jsonb; names and contact details are not audited)';
comment on column slotoptim.audit_trail.new_values is 'the audited columns after the change (jsonb)';
comment on column slotoptim.audit_trail.hash is 'hex SHA-256 chaining this event to the previous one (slotoptim.verify_audit_chain checks it)';
-- slotoptim.buffer_rules
comment on column slotoptim.buffer_rules.org_key is 'the organisation''s key';
comment on column slotoptim.buffer_rules.name is 'the rule''s name, unique in the organisation';
comment on column slotoptim.buffer_rules.when_new_customer is 'applies only to a customer''s first visit when true, only to returning customers when false, to both when null';
comment on column slotoptim.buffer_rules.when_category is 'applies only to services of this category (null: any)';
comment on column slotoptim.buffer_rules.when_min_complexity is 'applies only to services of at least this complexity (null: any)';
comment on column slotoptim.buffer_rules.when_service_key is 'applies only to this service (null: any)';
comment on column slotoptim.buffer_rules.when_provider_key is 'applies only to this provider (null: any)';
comment on column slotoptim.buffer_rules.extra_minutes is 'minutes added to the buffer after the appointment';
comment on column slotoptim.buffer_rules.active is 'false: the rule is kept but ignored';
-- slotoptim.demand_forecasts
comment on column slotoptim.demand_forecasts.org_key is 'the organisation''s key';
comment on column slotoptim.demand_forecasts.provider_key is 'the provider''s key';
comment on column slotoptim.demand_forecasts.service_key is 'the service''s key, null for all services together';
comment on column slotoptim.demand_forecasts.day is 'the local date forecast';
comment on column slotoptim.demand_forecasts.weekday is 'ISO weekday of day (1 = Monday)';
comment on column slotoptim.demand_forecasts.hour is 'local hour (0-23), null for a whole-day row';
comment on column slotoptim.demand_forecasts.expected is 'expected number of appointments';
comment on column slotoptim.demand_forecasts.method is 'how it was forecast (prophet, seasonal_naive ...)';
comment on column slotoptim.demand_forecasts.generated_at is 'when the forecast was made';
comment on column slotoptim.demand_forecasts.model_version is 'the version of the model that made it';
-- slotoptim.demand_heatmap
comment on column slotoptim.demand_heatmap.org_key is 'the organisation''s key';
comment on column slotoptim.demand_heatmap.provider_key is 'the provider''s key';
comment on column slotoptim.demand_heatmap.weekday is 'ISO weekday (1 = Monday)';
comment on column slotoptim.demand_heatmap.hour is 'local hour (0-23)';
comment on column slotoptim.demand_heatmap.demand_per_hour is 'forecast appointments starting in that hour, averaged over the forecast days of that weekday';
comment on column slotoptim.demand_heatmap.demand_minutes is 'demand_per_hour times the provider''s mean blocked minutes (service plus buffer) per appointment';
comment on column slotoptim.demand_heatmap.capacity_minutes is 'working minutes of the provider in that hour from the weekly hours (closures not subtracted)';
comment on column slotoptim.demand_heatmap.ratio is 'demand_minutes over capacity_minutes; null without capacity, above 1 when demand exceeds time';
comment on column slotoptim.demand_heatmap.forecast_days is 'how many forecast days of that weekday the average covers';
-- slotoptim.fill_kpis: commented where it is defined (sql/72_views_fill.sql), freed intervals.
-- slotoptim.high_risk_slots
comment on column slotoptim.high_risk_slots.appointment_id is 'appointment id';
comment on column slotoptim.high_risk_slots.org_key is 'the organisation''s key';
comment on column slotoptim.high_risk_slots.appointment_key is 'the practice''s own key of the appointment, if any';
comment on column slotoptim.high_risk_slots.provider_key is 'the provider''s key';
comment on column slotoptim.high_risk_slots.service_key is 'the service''s key';
comment on column slotoptim.high_risk_slots.customer_key is 'the customer''s key';
comment on column slotoptim.high_risk_slots.starts_local is 'start in the provider''s local wall-clock time';
comment on column slotoptim.high_risk_slots.day is 'local date of the start';
comment on column slotoptim.high_risk_slots.local_time is 'local start time HH:MM';
comment on column slotoptim.high_risk_slots.no_show_risk is 'predicted no-show probability';
comment on column slotoptim.high_risk_slots.threshold is 'the organisation''s high_risk_threshold it is at or above';
comment on column slotoptim.high_risk_slots.sms_reminder is 'whether an SMS reminder is planned';
comment on column slotoptim.high_risk_slots.status is 'booked or confirmed';
-- slotoptim.learned_buffers
comment on column slotoptim.learned_buffers.org_key is 'the organisation''s key';
comment on column slotoptim.learned_buffers.service_key is 'the service whose buffer was learned';
comment on column slotoptim.learned_buffers.provider_key is 'the provider it was learned for, null for all providers of the service';
comment on column slotoptim.learned_buffers.minutes is 'the learned buffer after the service, minutes (rounded up, capped)';
comment on column slotoptim.learned_buffers.default_minutes is 'the service''s default buffer it replaces when in use';
comment on column slotoptim.learned_buffers.quantile is 'the overrun quantile the buffer covers (e.g. 0.8)';
comment on column slotoptim.learned_buffers.overrun_minutes is 'the estimated overrun quantile before rounding and capping (may be negative)';
comment on column slotoptim.learned_buffers.n is 'completed appointments it was learned from';
comment on column slotoptim.learned_buffers.computed_at is 'when it was learned';
comment on column slotoptim.learned_buffers.in_use is 'the organisation''s use_learned_buffers: whether buffer_after() uses it';
-- slotoptim.learning_settings
comment on column slotoptim.learning_settings.org_key is 'the organisation''s key';
comment on column slotoptim.learning_settings.high_risk_threshold is 'no-show risk from which an appointment appears in high_risk_slots';
comment on column slotoptim.learning_settings.overbooking_safety is 'expected no-shows of a provider''s day above which overbooking may be suggested';
comment on column slotoptim.learning_settings.overtime_cost_ratio is 'cost of a minute of provider overtime, in idle provider minutes';
comment on column slotoptim.learning_settings.waiting_cost_ratio is 'cost of a minute of patient waiting, in idle provider minutes';
comment on column slotoptim.learning_settings.buffer_quantile is 'overrun quantile that learned buffers cover';
comment on column slotoptim.learning_settings.buffer_max_minutes is 'cap of a learned buffer, minutes';
comment on column slotoptim.learning_settings.use_learned_buffers is 'whether buffer_after() uses learned buffers instead of the service defaults';
comment on column slotoptim.learning_settings.min_practice_rows is 'labelled appointments needed before the practice gets its own no-show model';
-- slotoptim.model_versions
comment on column slotoptim.model_versions.id is 'model version id';
comment on column slotoptim.model_versions.org_key is 'the organisation''s key';
comment on column slotoptim.model_versions.kind is 'noshow, forecast or buffers';
comment on column slotoptim.model_versions.version is 'version label';
comment on column slotoptim.model_versions.trained_at is 'when it was trained';
comment on column slotoptim.model_versions.active is 'whether scoring uses it';
comment on column slotoptim.model_versions.source is 'what it was trained on (practice, kaggle ...)';
comment on column slotoptim.model_versions.metrics is 'its evaluation metrics (jsonb: ROC AUC, Brier ...)';
comment on column slotoptim.model_versions.metadata is 'everything recorded about the training run (jsonb)';
-- slotoptim.notification_fatigue
comment on column slotoptim.notification_fatigue.org_key is 'the organisation''s key';
comment on column slotoptim.notification_fatigue.customer_key is 'the customer''s key';
comment on column slotoptim.notification_fatigue.offers_30d is 'offers made to the customer in the last 30 days';
comment on column slotoptim.notification_fatigue.ignored_30d is 'of those, offers that expired unanswered';
comment on column slotoptim.notification_fatigue.ignore_rate_30d is 'ignored_30d / offers_30d';
comment on column slotoptim.notification_fatigue.consecutive_ignored is 'offers ignored in a row (highest over the customer''s entries)';
comment on column slotoptim.notification_fatigue.suppressed is 'true when consecutive_ignored reached the organisation''s fatigue_ignored_limit: no more offers';
comment on column slotoptim.notification_fatigue.opted_out is 'the customer opted out of all messages (STOP)';
-- slotoptim.offer_funnel
comment on column slotoptim.offer_funnel.org_key is 'the organisation''s key';
comment on column slotoptim.offer_funnel.strategy is 'the campaign''s offer strategy';
comment on column slotoptim.offer_funnel.channel is 'sms, whatsapp or email';
comment on column slotoptim.offer_funnel.offers is 'offers made';
comment on column slotoptim.offer_funnel.sent is 'offers whose message was sent';
comment on column slotoptim.offer_funnel.delivered is 'offers whose message was delivered';
comment on column slotoptim.offer_funnel.clicked is 'offers whose claim link was opened';
comment on column slotoptim.offer_funnel.claimed is 'offers claimed (booked)';
comment on column slotoptim.offer_funnel.declined is 'offers declined';
comment on column slotoptim.offer_funnel.expired is 'offers that expired unanswered';
comment on column slotoptim.offer_funnel.retracted is 'offers withdrawn (the gap was filled or vanished)';
-- slotoptim.offer_funnel_daily
comment on column slotoptim.offer_funnel_daily.org_key is 'the organisation''s key';
comment on column slotoptim.offer_funnel_daily.day is 'local date of the offer in the organisation''s time zone';
comment on column slotoptim.offer_funnel_daily.strategy is 'the campaign''s offer strategy';
comment on column slotoptim.offer_funnel_daily.channel is 'sms, whatsapp or email';
comment on column slotoptim.offer_funnel_daily.offers is 'offers made';
comment on column slotoptim.offer_funnel_daily.sent is 'offers whose message was sent';
comment on column slotoptim.offer_funnel_daily.delivered is 'offers whose message was delivered';
comment on column slotoptim.offer_funnel_daily.clicked is 'offers whose claim link was opened';
comment on column slotoptim.offer_funnel_daily.claimed is 'offers claimed (booked)';
comment on column slotoptim.offer_funnel_daily.declined is 'offers declined';
comment on column slotoptim.offer_funnel_daily.expired is 'offers that expired unanswered';
comment on column slotoptim.offer_funnel_daily.retracted is 'offers withdrawn (the gap was filled or vanished)';
-- slotoptim.open_gaps
comment on column slotoptim.open_gaps.id is 'gap id';
comment on column slotoptim.open_gaps.org_key is 'the organisation''s key';
comment on column slotoptim.open_gaps.provider_key is 'the provider''s key';
comment on column slotoptim.open_gaps.during is '[start, end) of the free interval';
comment on column slotoptim.open_gaps.starts_local is 'start in the provider''s local wall-clock time';
comment on column slotoptim.open_gaps.minutes is 'length in minutes';
comment on column slotoptim.open_gaps.kind is 'bookable (a service fits) or fragment (too short for any)';
comment on column slotoptim.open_gaps.fits is 'keys of the services that fit';
comment on column slotoptim.open_gaps.status is 'open, offering, filled, expired, merged or withdrawn';
comment on column slotoptim.open_gaps.opened_at is 'when the gap opened';
-- slotoptim.overbooking_suggestions
comment on column slotoptim.overbooking_suggestions.org_key is 'the organisation''s key';
comment on column slotoptim.overbooking_suggestions.provider_key is 'the provider''s key';
comment on column slotoptim.overbooking_suggestions.day is 'the provider''s local date';
comment on column slotoptim.overbooking_suggestions.appointments is 'upcoming booked or confirmed appointments of the day';
comment on column slotoptim.overbooking_suggestions.scored is 'of those, appointments with a no-show risk';
comment on column slotoptim.overbooking_suggestions.expected_no_shows is 'sum of the risks';
comment on column slotoptim.overbooking_suggestions.expected_attendance is 'sum of (1 - risk)';
comment on column slotoptim.overbooking_suggestions.expected_idle_minutes is 'sum of risk times length, minutes';
comment on column slotoptim.overbooking_suggestions.safety_threshold is 'the organisation''s overbooking_safety';
comment on column slotoptim.overbooking_suggestions.slot_appointment_id is 'the best candidate appointment to double-book alongside';
comment on column slotoptim.overbooking_suggestions.slot_appointment_key is 'its key, if any';
comment on column slotoptim.overbooking_suggestions.slot_starts_local is 'its local start';
comment on column slotoptim.overbooking_suggestions.slot_service_key is 'its service';
comment on column slotoptim.overbooking_suggestions.slot_minutes is 'its length, minutes';
comment on column slotoptim.overbooking_suggestions.slot_risk is 'its no-show risk';
comment on column slotoptim.overbooking_suggestions.added_show_probability is 'probability the added booking shows (1 - the day''s mean risk)';
comment on column slotoptim.overbooking_suggestions.expected_idle_saved is 'idle minutes the added booking is expected to save';
comment on column slotoptim.overbooking_suggestions.expected_waiting_minutes is 'patient waiting minutes it is expected to cause';
comment on column slotoptim.overbooking_suggestions.expected_overtime_minutes is 'provider overtime minutes it is expected to cause';
comment on column slotoptim.overbooking_suggestions.waiting_cost is 'expected waiting in idle-minute equivalents (waiting_cost_ratio applied)';
comment on column slotoptim.overbooking_suggestions.overtime_cost is 'expected overtime in idle-minute equivalents (overtime_cost_ratio applied)';
comment on column slotoptim.overbooking_suggestions.net_benefit is 'expected_idle_saved - waiting_cost - overtime_cost';
comment on column slotoptim.overbooking_suggestions.free_gap_local is 'local start of a free gap of the day that still fits the candidate''s service (book it first)';
comment on column slotoptim.overbooking_suggestions.free_gap_minutes is 'that gap''s length, minutes';
comment on column slotoptim.overbooking_suggestions.suggested is 'true when double-booking pays: net_benefit > 0, no-shows above the threshold, no free gap fits';
comment on column slotoptim.overbooking_suggestions.suggestion is 'the advice in words, with its numbers';
-- slotoptim.providers
comment on column slotoptim.providers.org_key is 'the organisation''s key';
comment on column slotoptim.providers.provider_key is 'the provider''s key';
comment on column slotoptim.providers.name is 'display name';
comment on column slotoptim.providers.timezone is 'IANA time zone of the provider''s calendar';
comment on column slotoptim.providers.location_key is 'the location''s key, if any';
comment on column slotoptim.providers.active is 'false: kept but gets no gaps or offers';
comment on column slotoptim.providers.service_keys is 'keys of the services the provider offers';
-- slotoptim.recommended_template
comment on column slotoptim.recommended_template.org_key is 'the organisation''s key';
comment on column slotoptim.recommended_template.provider_key is 'the provider''s key';
comment on column slotoptim.recommended_template.timezone is 'the provider''s time zone';
comment on column slotoptim.recommended_template.weekday is 'ISO weekday (1 = Monday)';
comment on column slotoptim.recommended_template.weekday_name is 'mon .. sun';
comment on column slotoptim.recommended_template.hour is 'local hour (0-23)';
comment on column slotoptim.recommended_template.hour_starts is 'the hour as a time of day';
comment on column slotoptim.recommended_template.service_key is 'the service''s key';
comment on column slotoptim.recommended_template.service_minutes is 'the service''s length';
comment on column slotoptim.recommended_template.slots is 'slots of the service to offer in that hour';
comment on column slotoptim.recommended_template.booked_minutes is 'slots times service_minutes';
comment on column slotoptim.recommended_template.run_id is 'the template run it comes from';
comment on column slotoptim.recommended_template.generated_at is 'when the run was made';
comment on column slotoptim.recommended_template.status is 'the solver''s status of the run: optimal or feasible';
-- slotoptim.revenue_recovered
comment on column slotoptim.revenue_recovered.org_key is 'the organisation''s key';
comment on column slotoptim.revenue_recovered.provider_key is 'the provider''s key';
comment on column slotoptim.revenue_recovered.day is 'local date of the appointment in the provider''s time zone';
comment on column slotoptim.revenue_recovered.appointments is 'appointments booked through an offer and not cancelled';
comment on column slotoptim.revenue_recovered.revenue is 'what was charged: the price fixed on each offer (last-minute pricing), else the service''s list price';
comment on column slotoptim.revenue_recovered.currency is 'the organisation''s currency (ISO 4217)';
-- slotoptim.services
comment on column slotoptim.services.org_key is 'the organisation''s key';
comment on column slotoptim.services.service_key is 'the service''s key';
comment on column slotoptim.services.name is 'display name';
comment on column slotoptim.services.minutes is 'length of the service';
comment on column slotoptim.services.price is 'price in the organisation''s currency';
comment on column slotoptim.services.currency is 'the organisation''s currency (ISO 4217)';
comment on column slotoptim.services.default_buffer_minutes is 'buffer after the service before rules apply';
comment on column slotoptim.services.category is 'category buffer rules can match';
comment on column slotoptim.services.complexity is '1 (simple) to 5 (complex), buffer rules can match a minimum';
comment on column slotoptim.services.active is 'false: kept but no longer offered';
-- slotoptim.waitlist
comment on column slotoptim.waitlist.id is 'waitlist entry id';
comment on column slotoptim.waitlist.org_key is 'the organisation''s key';
comment on column slotoptim.waitlist.entry_key is 'the practice''s own key of the entry, if any';
comment on column slotoptim.waitlist.customer_key is 'the customer''s key';
comment on column slotoptim.waitlist.status is 'active, paused, fulfilled, cancelled or expired';
comment on column slotoptim.waitlist.tier is 'platinum, gold, silver or standard';
comment on column slotoptim.waitlist.preferred_days is 'ISO weekdays the customer can come (null: any)';
comment on column slotoptim.waitlist.window_start is 'earliest local start time (customer''s zone), null: any';
comment on column slotoptim.waitlist.window_end is 'latest local end time (customer''s zone), null: any';
comment on column slotoptim.waitlist.earliest_date is 'first date the customer can come';
comment on column slotoptim.waitlist.latest_date is 'last date the customer can come';
comment on column slotoptim.waitlist.service_keys is 'services the customer would accept';
comment on column slotoptim.waitlist.provider_keys is 'providers the customer prefers (null: any)';
comment on column slotoptim.waitlist.lead_time_minutes is 'least notice before a slot starts';
comment on column slotoptim.waitlist.travel_minutes is 'the customer''s travel time to the practice';
comment on column slotoptim.waitlist.max_travel_minutes is 'the most travel the customer accepts';
comment on column slotoptim.waitlist.offers_received is 'offers made to this entry';
comment on column slotoptim.waitlist.offers_accepted is 'offers it accepted';
comment on column slotoptim.waitlist.added_at is 'when the customer joined the waitlist';
-- slotoptim.weekly_demand_forecast
comment on column slotoptim.weekly_demand_forecast.org_key is 'the organisation''s key';
comment on column slotoptim.weekly_demand_forecast.provider_key is 'the provider''s key';
comment on column slotoptim.weekly_demand_forecast.service_key is 'the service''s key, null for all services together';
comment on column slotoptim.weekly_demand_forecast.week_start is 'the Monday of the week';
comment on column slotoptim.weekly_demand_forecast.days_covered is 'forecast days of the week (7 for a whole week)';
comment on column slotoptim.weekly_demand_forecast.expected is 'expected appointments in the week';
-- slotoptim.working_hours
comment on column slotoptim.working_hours.org_key is 'the organisation''s key';
comment on column slotoptim.working_hours.provider_key is 'the provider''s key';
comment on column slotoptim.working_hours.weekday is 'ISO weekday (1 = Monday)';
comment on column slotoptim.working_hours.starts_at is 'local start time';
comment on column slotoptim.working_hours.ends_at is 'local end time';
comment on column slotoptim.working_hours.timezone is 'the provider''s time zone the times are in';
