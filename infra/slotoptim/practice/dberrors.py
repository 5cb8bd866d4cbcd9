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
    if isinstance(exc, errors.CheckViolation) and name:
        return f"violates rule {name}"
    return str(diag.message_primary or exc)


def is_user_error(exc: psycopg.Error) -> bool:
    """Errors that come from the data (class 22 data exceptions, 23 integrity, P0002 not found)."""
    state = exc.sqlstate or ""
    return state.startswith(("22", "23")) or state == "P0002"


def _conflict_detail(detail: str) -> str:
    # PostgreSQL's detail reads: Key (...)=(...) conflicts with existing key (provider_id, blocked)=(id, range).
    marker = "conflicts with existing key"
    if marker in detail:
        existing = detail.split(marker, 1)[1]
        start = existing.find("[")
        if start >= 0:
            return "existing blocked time " + existing[start:].rstrip(").").rstrip() + ")"
    return detail
