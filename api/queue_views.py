"""What the waiting-room screen and a customer's status page say, from a location's board.

The same dicts fill the server-rendered page and the Server-Sent Events, so a page without
JavaScript (refreshing itself) and one with it say the same words. Tickets, first names and the
provider's display name only: never a service, a reason for the visit, or a surname.
"""

from __future__ import annotations

from typing import Any

from slotoptim.api.queue_hub import Board


def _wait(row: dict[str, Any]) -> str:
    minutes, low, high = row.get("minutes"), row.get("low"), row.get("high")
    if minutes is None:
        return "soon"
    if minutes < 1:
        return "next"
    if low is not None and high is not None and high > low:
        return f"about {minutes} min ({low}-{high})"
    return f"about {minutes} min"


def screen(board: Board) -> dict[str, Any]:
    return {
        "called": [{"ticket": r["ticket"], "name": r["name"], "provider": r["provider"]} for r in board["called"]],
        "waiting": [{"ticket": r["ticket"], "name": r["name"], "wait": _wait(r)} for r in board["waiting"]],
    }


def status(board: Board, entry_id: int) -> dict[str, str]:
    row = next((r for r in board["all"] if r["id"] == entry_id), None)
    if row is None:
        return {"state": "over", "ticket": "", "headline": "This visit is over", "detail": "Thank you for coming."}
    state = str(row["status"])
    ticket = f"Ticket {row['ticket']}"
    if state == "waiting":
        ahead = int(row["position"] or 1) - 1
        people = "Nobody is" if ahead == 0 else ("1 person is" if ahead == 1 else f"{ahead} people are")
        return {
            "state": state,
            "ticket": ticket,
            "headline": f"You're checked in. Expected wait: {_wait(row)}",
            "detail": f"{people} ahead of you. This page updates by itself.",
        }
    if state == "called":
        where = f" Please go to {row['provider']}." if row["provider"] else ""
        return {
            "state": state,
            "ticket": ticket,
            "headline": "It's your turn!",
            "detail": f"You've been called.{where}",
        }
    if state == "in_service":
        return {"state": state, "ticket": ticket, "headline": "You're being seen", "detail": "Thank you for waiting."}
    if state == "done":
        return {"state": state, "ticket": ticket, "headline": "Your visit is done", "detail": "Thank you for coming."}
    return {"state": state, "ticket": ticket, "headline": "You've left the queue", "detail": "Please ask at the desk."}
