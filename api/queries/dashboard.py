"""The staff dashboard: its frame (the practice, its clock, whether there is anything to show yet)
and its cards, read inside the caller's tenant transaction (row-level security).

A card is two files: a module api/queries/card_<NN>_<name>.py whose `load(conn, ctx)` reads the
card's numbers with one query, and a template api/templates/card_<NN>_<name>.html that renders
what `load` returned (as `card.data`). Cards are found by file name and shown in name order, so
a branch adds a card by adding its two files and touches nothing shared. `load` returns None to
leave its card out.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import clock_time

CARD_PREFIX = "card_"
ORG_KEY = "(select o.key from slotoptim_private.organisation as o where o.id = slotoptim_private.current_org())"


@dataclass(frozen=True)
class Context:
    """What every card may need: the clock in the practice's zone and its currency."""

    now: dt.datetime
    tz: ZoneInfo
    today: dt.date
    currency: str
    practice: str
    timezone: str  # e.g. "America/New_York (EST)"
    today_text: str
    now_text: str
    # Nothing to show yet: no working hours, no gaps, no offers (the page says what to do).
    empty: bool


@dataclass(frozen=True)
class Card:
    name: str
    template: str
    data: object


class CardModule(Protocol):
    def load(self, conn: Conn, ctx: Context) -> object | None: ...


def context(conn: Conn, now: dt.datetime) -> Context:
    org = conn.execute(
        "select o.name, o.timezone, o.currency,"
        " not exists (select from slotoptim_private.working_hours as w where w.org_id = o.id)"
        " and not exists (select from slotoptim_private.gap as g where g.org_id = o.id)"
        " and not exists (select from slotoptim_private.offer as f where f.org_id = o.id) as empty"
        " from slotoptim_private.organisation as o where o.id = slotoptim_private.current_org()"
    ).fetchone()
    assert org is not None
    tz = ZoneInfo(str(org["timezone"]))
    local_now = now.astimezone(tz)
    today = local_now.date()
    return Context(
        now=now,
        tz=tz,
        today=today,
        currency=str(org["currency"]),
        practice=str(org["name"]),
        timezone=f"{org['timezone']} ({local_now.tzname()})",
        today_text=f"{today:%A, %B} {today.day}",
        now_text=clock_time(local_now),
        empty=bool(org["empty"]),
    )


@functools.cache
def card_modules() -> tuple[tuple[str, CardModule], ...]:
    """The card modules of this package, in name order."""
    package = importlib.import_module(__package__ or "slotoptim.api.queries")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith(CARD_PREFIX))
    return tuple((name, cast(CardModule, importlib.import_module(f"{package.__name__}.{name}"))) for name in names)


def cards(conn: Conn, ctx: Context) -> list[Card]:
    """The cards to show; none for a practice with nothing yet (the page says what to do instead
    of showing a wall of zeros), unless a card module sets SHOWN_WHEN_EMPTY."""
    found = []
    for name, module in card_modules():
        if ctx.empty and not getattr(module, "SHOWN_WHEN_EMPTY", False):
            continue
        data = module.load(conn, ctx)
        if data is not None:
            found.append(Card(name, f"{name}.html", data))
    return found


def when(at: dt.datetime, tz: ZoneInfo) -> str:
    """A moment as staff read it on the dashboard: "Tue Nov 24, 2:00 PM" in the practice's zone."""
    local = at.astimezone(tz)
    return f"{local:%a %b} {local.day}, {clock_time(local)}"
