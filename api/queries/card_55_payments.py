"""Dashboard card "No-show protection": this month's fees and deposits (api/queries/dashboard_payments),
shown only when the practice has a payment policy or a charge."""

from __future__ import annotations

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import Context
from slotoptim.api.queries.dashboard_payments import PaymentsCard, payments_card


def load(conn: Conn, ctx: Context) -> PaymentsCard | None:
    return payments_card(conn, ctx.today.replace(day=1), ctx.tz)
