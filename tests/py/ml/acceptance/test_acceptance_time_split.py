"""The acceptance model learns only from what was known at its cut-off, and its time-split
evaluation scores later offers against the prior alone (sql/54n_fn_acceptance.sql, ml/acceptance)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from fill.fill_practice import cancel, load

from slotoptim.ml.acceptance.train_db import evaluate, train, train_nightly

CUTOFF = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York
RESPONSIVE = 10  # customers 1-10 accept every offer, 11-40 never answer


def campaign(conn: psycopg.Connection[Any], gap: int, at: dt.datetime) -> int:
    row = conn.execute(
        "insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, status, started_at, closed_at)"
        " select g.org_id, g.id, 'broadcast', 'expired', %s, %s from slotoptim_private.gap as g where g.id = %s"
        " returning id",
        (at, at, gap),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def offer(
    conn: psycopg.Connection[Any],
    campaign_id: int,
    customer: int,
    sent: dt.datetime,
    accepted: bool,
    answered_after: dt.timedelta = dt.timedelta(minutes=5),
) -> None:
    """An SMS offer to customer ``customer``, accepted after ``answered_after`` or left to expire."""
    conn.execute(
        "insert into slotoptim_private.offer (org_id, campaign_id, gap_id, waitlist_entry_id, customer_id, service_id,"
        "  slot, wave, score, score_detail, channel, status, created_at, send_at, expires_at, responded_at)"
        " select c.org_id, c.id, c.gap_id, w.id, w.customer_id, w.service_ids[1],"
        "        tstzrange(lower(g.during), lower(g.during) + interval '30 minutes'), 1, 60, '{}', 'sms',"
        "        %(status)s, %(sent)s, %(sent)s, %(sent)s + interval '15 minutes', %(responded)s"
        "   from slotoptim_private.offer_campaign as c"
        "   join slotoptim_private.gap as g on g.id = c.gap_id"
        "   join slotoptim_private.waitlist_entry as w on w.key = %(entry)s"
        "  where c.id = %(campaign)s",
        {
            "status": "claimed" if accepted else "expired",
            "sent": sent,
            "responded": sent + answered_after if accepted else None,
            "entry": f"w{customer:03d}",
            "campaign": campaign_id,
        },
    )


def history(conn: psycopg.Connection[Any], *, later_flipped: bool) -> int:
    """Two rounds of offers before the cut-off, one straddling it and one after it; returns the org id.

    ``later_flipped``: after the cut-off the responsive customers stop answering and the others
    accept everything: data that would change the model if it leaked into training."""
    load(conn, 40, consent={"sms": True, "whatsapp": False, "email": False})
    gap = cancel(conn)
    for days in (3, 2):
        sent = CUTOFF - dt.timedelta(days=days)
        c = campaign(conn, gap, sent)
        for i in range(1, 41):
            offer(conn, c, i, sent + dt.timedelta(minutes=i % 7), i <= RESPONSIVE)
    # Sent before the cut-off, answered after it: unknown at the cut-off, so no example then.
    c = campaign(conn, gap, CUTOFF - dt.timedelta(minutes=10))
    offer(conn, c, 40, CUTOFF - dt.timedelta(minutes=10), True, answered_after=dt.timedelta(minutes=12))
    sent = CUTOFF + dt.timedelta(days=1)
    c = campaign(conn, gap, sent)
    for i in range(1, 41):
        offer(conn, c, i, sent + dt.timedelta(minutes=i % 7), (i <= RESPONSIVE) != later_flipped)
    row = conn.execute("select id from slotoptim_private.organisation").fetchone()
    assert row is not None
    return int(row["id"])


def factors(conn: psycopg.Connection[Any], version: int) -> list[tuple[Any, ...]]:
    return [
        (r["factor"], r["level"], r["observed"], round(r["expected"], 4), round(r["multiplier"], 5))
        for r in conn.execute(
            "select * from slotoptim_private.acceptance_factor where model_version_id = %s order by factor, level",
            (version,),
        ).fetchall()
    ]


def test_later_offers_do_not_leak_into_training(conn: psycopg.Connection[Any]) -> None:
    org = history(conn, later_flipped=True)
    with_later = factors(conn, train(conn, org, CUTOFF, "with-later"))
    # The same training after deleting everything that was not known at the cut-off.
    conn.execute(
        "delete from slotoptim_private.offer where send_at >= %s or responded_at > %s",
        (CUTOFF - dt.timedelta(minutes=10), CUTOFF),
    )
    without_later = factors(conn, train(conn, org, CUTOFF, "without-later"))
    assert with_later == without_later
    examples = conn.execute(
        "select count(*) as n from slotoptim_private.acceptance_examples(%s, '-infinity', %s)", (org, CUTOFF)
    ).fetchone()
    assert examples is not None and examples["n"] == 80


def test_training_counts_only_offers_resolved_by_the_cutoff(conn: psycopg.Connection[Any]) -> None:
    org = history(conn, later_flipped=False)
    version = train(conn, org, CUTOFF)
    whole = {(f[0], f[1]): f for f in factors(conn, version)}
    # 80 offers before the cut-off, 20 accepted: the straddling claim (customer 40) is not one of them.
    assert whole[("organisation", "all")][2] == 20
    assert ("customer", str(customer_id(conn, 40))) in whole
    assert whole[("customer", str(customer_id(conn, 40)))][2] == 0


def customer_id(conn: psycopg.Connection[Any], index: int) -> int:
    row = conn.execute("select id from slotoptim_private.customer where key = %s", (f"c{index:03d}",)).fetchone()
    assert row is not None
    return int(row["id"])


def test_model_beats_the_prior_on_later_offers(conn: psycopg.Connection[Any]) -> None:
    org = history(conn, later_flipped=False)
    version = train(conn, org, CUTOFF)
    result = evaluate(conn, version, CUTOFF, CUTOFF + dt.timedelta(days=3))
    assert result is not None
    assert result.test_offers == 40 and result.accepted == RESPONSIVE
    assert result.model.log_loss < result.prior.log_loss
    assert result.prior.roc_auc == pytest.approx(0.5, abs=0.15), "the prior knows only channel and hour"
    assert result.model.roc_auc is not None and result.model.roc_auc > 0.95
    # Customers are shrunk towards the organisation: two accepts in two offers is not a certainty.
    assert all(b["mean_predicted"] < 0.99 for b in result.model.calibration)


def test_nightly_training_keeps_its_time_split_evaluation(conn: psycopg.Connection[Any]) -> None:
    org = history(conn, later_flipped=False)
    summary = train_nightly(conn, org, CUTOFF + dt.timedelta(days=2), holdout=dt.timedelta(days=2))
    row = conn.execute(
        "select active, metadata from slotoptim_private.model_version where id = %s", (summary["model_version_id"],)
    ).fetchone()
    assert row is not None and row["active"]
    evaluation = row["metadata"]["time_split_evaluation"]
    assert evaluation["test_offers"] == 40
    assert evaluation["model"]["log_loss"] < evaluation["prior"]["log_loss"]
    versions = conn.execute("select count(*) as n from slotoptim_private.model_version where kind = 'acceptance'")
    assert versions.fetchone()["n"] == 1, "the evaluation's own version is not kept"
