"""The dashboard's no-show protection card: this month's fees and deposits collected, waived and
failed (slotoptim.payment_money_monthly, next to the revenue recovered card), and the charges that
need a person (slotoptim.payment_attention: declined, or waiting for the customer to authenticate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import money

ATTENTION_ROWS = 10


@dataclass(frozen=True)
class AttentionRow:
    charge_id: int
    customer: str
    kind: str
    amount: str
    status: str
    why: str
    when: str


@dataclass
class PaymentsCard:
    collected: str
    waived: str
    failed: str
    counts: str
    attention: list[AttentionRow] = field(default_factory=list)


KINDS = {
    "no_show_fee": "No-show fee",
    "late_cancel_fee": "Late cancellation fee",
    "deposit_capture": "Deposit kept",
    "prepayment_capture": "Prepayment",
}


# One statement: whether the card is on (a policy or a charge exists), this month's money, and the
# charges needing a person (as JSON, newest first), so the dashboard pays one round trip for it.
CARD_SQL = """
select exists (select 1 from slotoptim_private.payment_policy)
       or exists (select 1 from slotoptim_private.payment_charge) as used,
       o.currency, coalesce(m.collected, 0) as collected, coalesce(m.waived, 0) as waived,
       coalesce(m.failed, 0) as failed, coalesce(m.charges_collected, 0) as n_collected,
       coalesce(m.charges_waived, 0) as n_waived, coalesce(m.charges_failed, 0) as n_failed,
       (select coalesce(jsonb_agg(jsonb_build_object(
                 'charge_id', a.charge_id, 'name', a.name, 'kind', a.kind, 'amount', a.amount::text,
                 'currency', a.currency, 'status', a.status, 'reason', a.reason, 'error_code', a.error_code,
                 'decline_code', a.decline_code, 'created_at', a.created_at) order by a.created_at desc), '[]')
          from (select a.charge_id, cu.name, a.kind, a.amount, a.currency, a.status, a.reason, a.error_code,
                       a.decline_code, a.created_at
                  from slotoptim.payment_attention as a
                  join slotoptim_private.customer as cu
                    on cu.org_id = slotoptim_private.current_org() and cu.key = a.customer_key
                 order by a.created_at desc
                 limit %(rows)s) as a) as attention
  from slotoptim_private.organisation as o
  left join slotoptim.payment_money_monthly as m on m.org_key = o.key and m.month = %(month)s
 where o.id = slotoptim_private.current_org()
"""


def payments_card(conn: Conn, month_start: dt.date, tz: ZoneInfo) -> PaymentsCard | None:
    """None when the practice has neither a payment policy nor a charge: the card stays away."""
    row = conn.execute(CARD_SQL, {"rows": ATTENTION_ROWS, "month": month_start}).fetchone()
    if row is None or not row["used"]:
        return None
    currency = str(row["currency"])
    card = PaymentsCard(
        collected=money(Decimal(row["collected"]), currency),
        waived=money(Decimal(row["waived"]), currency),
        failed=money(Decimal(row["failed"]), currency),
        counts=(
            f"{row['n_collected']} collected, {row['n_waived']} waived,"
            f" {row['n_failed']} failed or awaiting the customer"
        ),
    )
    for r in row["attention"]:
        error = r["decline_code"] or r["error_code"] or ""
        status = "needs the customer to authenticate" if r["status"] == "requires_action" else "declined"
        local = dt.datetime.fromisoformat(r["created_at"]).astimezone(tz)
        card.attention.append(
            AttentionRow(
                charge_id=int(r["charge_id"]),
                customer=str(r["name"]),
                kind=KINDS.get(str(r["kind"]), str(r["kind"])),
                amount=money(Decimal(r["amount"]), str(r["currency"])),
                status=f"{status} ({error})" if error else status,
                why=str(r["reason"]),
                when=f"{local:%b} {local.day}",
            )
        )
    return card
