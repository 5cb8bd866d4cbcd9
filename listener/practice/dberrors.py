"""Turns the database's refusals into sentences a user can act on.

The database is the final judge (constraints, exclusion, foreign keys); this module only explains
its verdict. Shared by the importer and, later, the API.
"""

from __future__ import annotations

import psycopg
from psycopg import errors

# Constraint name -> what it means, in the user's words.
CONSTRAINT_MESSAGES: dict[str, str] = {
    "appointment_no_overlap": "overlaps another active appointment of the same provider (buffers included)",
    "appointment_period_shape": "must end after it starts",
    "appointment_actual_order": "actual end must not be before actual start",
    "working_hours_no_overlap": "overlaps other working hours of the same provider on that day",
    "working_hours_order": "must end after it starts",
    "waitlist_window_order": "window must end after it starts",
    "waitlist_dates_order": "'from' must not be after 'to'",
    "waitlist_history_consistent": "accepted + declined + ignored cannot exceed received",
    "customer_sms_needs_phone": "SMS consent needs a phone number",
    "customer_whatsapp_needs_phone": "WhatsApp consent needs a phone number",
    "customer_email_needs_address": "email consent needs an email address",
    "closure_during_finite": "closure must end after it starts",
    "gap_live_no_overlap": "overlaps another open gap of the same provider",
    "appointment_period_range": "must lie between 1900-01-01 and 2200-01-01 (UTC)",
    "appointment_length_max": "an appointment lasts at most 24 hours",
    "appointment_instants_range": "instants must lie between 1900-01-01 and 2200-01-01 (UTC)",
    "closure_during_range": "must lie between 1900-01-01 and 2200-01-01 (UTC)",
    "customer_dates_range": "dates must lie between 1900-01-01 and 2200-01-01",
    "waitlist_dates_range": "dates must lie between 1900-01-01 and 2200-01-01",
    "waitlist_provider_not_excluded": "a provider cannot be both preferred and excluded",
    "waitlist_travel_within_max": "travel time must not exceed the maximum travel time",
    "service_price_finite": "must be a finite number",
    "organisation_timezone_valid": "not a place's time zone (use an IANA Area/Location name, or UTC)",
    "location_timezone_valid": "not a place's time zone (use an IANA Area/Location name, or UTC)",
    "provider_timezone_valid": "not a place's time zone (use an IANA Area/Location name, or UTC)",
    "customer_timezone_valid": "not a place's time zone (use an IANA Area/Location name, or UTC)",
}

# Constraint name -> the field it judges, as the API and practice files name it.
CONSTRAINT_FIELDS: dict[str, str] = {
    "appointment_period_range": "start",
    "appointment_period_shape": "end",
    "appointment_length_max": "end",
    "appointment_status_not_yet": "status",
    "closure_during_range": "start",
    "customer_dates_range": "birth_date",
    "waitlist_dates_range": "dates",
    "waitlist_window_order": "window",
    "waitlist_dates_order": "dates",
    "waitlist_provider_not_excluded": "excluded_providers",
    "waitlist_travel_within_max": "travel_minutes",
    "service_price_finite": "price",
    "service_price_nonnegative": "price",
    "organisation_timezone_valid": "timezone",
    "location_timezone_valid": "timezone",
    "provider_timezone_valid": "timezone",
    "customer_timezone_valid": "timezone",
}


def explain(exc: psycopg.Error) -> str:
    """One readable sentence for a database error caused by the user's data."""
    diag = exc.diag
    name = diag.constraint_name or ""
    if name in CONSTRAINT_MESSAGES:
        message = CONSTRAINT_MESSAGES[name]
        if isinstance(exc, errors.ExclusionViolation) and diag.message_detail:
            message += f" ({_conflict_detail(diag.message_detail)})"
        return message
    if isinstance(exc, errors.UniqueViolation):
        return f"duplicate: {diag.message_detail or diag.message_primary}"
    primary = str(diag.message_primary or exc)
    if isinstance(exc, errors.CheckViolation) and name:
        # A trigger's own sentence (raised with a constraint name) is better than the rule's name.
        return f"violates rule {name}" if primary.startswith("new row for relation") else primary
    return primary


def field_of(exc: psycopg.Error) -> str | None:
    """The field a refused constraint judges, when it judges one."""
    return CONSTRAINT_FIELDS.get(exc.diag.constraint_name or "")


def is_user_error(exc: psycopg.Error) -> bool:
    """Errors that come from the data (class 22 data exceptions, 23 integrity, P0002 not found, and
    what the driver refuses before sending: a NUL in a text)."""
    state = exc.sqlstate or ""
    return state.startswith(("22", "23")) or state == "P0002" or (not state and isinstance(exc, psycopg.DataError))


def _conflict_detail(detail: str) -> str:
    # PostgreSQL's detail reads: Key (...)=(...) conflicts with existing key (provider_id, blocked)=(id, range).
    marker = "conflicts with existing key"
    if marker in detail:
        existing = detail.split(marker, 1)[1]
        start = existing.find("[")
        if start >= 0:
            return "existing blocked time " + existing[start:].rstrip(").").rstrip() + ")"
    return detail
