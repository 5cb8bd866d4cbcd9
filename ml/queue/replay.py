"""Replaying clinic days through the real queue to score its wait estimates.

Each Hangu session (one physician's morning or afternoon, in time order) becomes a day: its
patients are booked every `slot_minutes` from 08:00, arrive with a simulated punctuality (normal,
mean `arrival_mean` minutes, sd `arrival_sd`, a share never comes), and are seen for the real
service times of that session, in the order the queue calls them. Earlier sessions are the
history the durations are learned from (completed appointments with actual_start/actual_end).

Every queue event (an arrival, a call, a start, an end) is sent to PostgreSQL through the same
functions the API calls, and after each one slotoptim.queue_forecast is asked for everyone
waiting. When a customer is called, each estimate they were given is scored against the wait
that really followed. The naive baseline of seed 001, "people ahead x default service time",
is scored on the same estimates in the same run.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.practice.importer import import_practice

TZ = ZoneInfo("America/New_York")
FIRST_DAY = dt.date(2026, 1, 5)
DAY_START = dt.time(8, 0)
WALK_TO_ROOM = dt.timedelta(seconds=30)


class ReplayInputError(ValueError):
    """The data file or an option is unusable; the message names it."""


@dataclass(frozen=True)
class Visit:
    first_visit: bool
    minutes: float


@dataclass(frozen=True)
class ReplayConfig:
    slot_minutes: int = 15
    arrival_mean: float = -8.0
    arrival_sd: float = 10.0
    no_show_share: float = 0.05
    history_sessions: int = 120
    test_sessions: int = 20
    seed: int = 7


@dataclass
class Scores:
    errors: list[float] = field(default_factory=list)

    def add(self, error: float) -> None:
        self.errors.append(error)

    @property
    def mae(self) -> float:
        return statistics.fmean(abs(e) for e in self.errors) if self.errors else float("nan")

    @property
    def within_10(self) -> float:
        return sum(abs(e) <= 10 for e in self.errors) / len(self.errors) if self.errors else float("nan")

    @property
    def bias(self) -> float:
        return statistics.fmean(self.errors) if self.errors else float("nan")


@dataclass
class ReplayReport:
    sessions: int
    patients: int
    estimates: int
    model: Scores
    naive_default: Scores
    naive_learned: Scores
    inside_interval: int
    default_service_minutes: int
    learned_mean_minutes: float

    def as_dict(self) -> dict[str, Any]:
        def part(s: Scores) -> dict[str, float]:
            return {
                "mae_minutes": round(s.mae, 2),
                "within_10_minutes": round(s.within_10, 3),
                "bias": round(s.bias, 2),
            }

        return {
            "sessions": self.sessions,
            "patients": self.patients,
            "estimates": self.estimates,
            "model": part(self.model)
            | {"interval_80_coverage": round(self.inside_interval / max(1, self.estimates), 3)},
            "naive_default": part(self.naive_default) | {"service_minutes": self.default_service_minutes},
            "naive_learned_mean": part(self.naive_learned) | {"service_minutes": round(self.learned_mean_minutes, 2)},
            "mae_ratio_model_to_naive_default": round(self.model.mae / self.naive_default.mae, 3),
        }


def read_sessions(path: Path) -> list[list[Visit]]:
    """Hangu visits grouped by Session (in session order), each session in StartTime order."""
    sessions: dict[int, list[tuple[str, Visit]]] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for column in ("Session", "Visit.No", "ServTime", "StartTime"):
                if column not in (reader.fieldnames or []):
                    raise ReplayInputError(f"{path}: missing column {column!r}")
            for line, row in enumerate(reader, start=2):
                try:
                    session, visit_no, seconds = int(row["Session"]), int(row["Visit.No"]), int(row["ServTime"])
                except ValueError:
                    raise ReplayInputError(
                        f"{path}: line {line}: Session, Visit.No and ServTime must be integers"
                    ) from None
                if seconds <= 0:
                    raise ReplayInputError(f"{path}: line {line}: ServTime must be positive")
                start = row["StartTime"].strip().rjust(8, "0")
                sessions.setdefault(session, []).append((start, Visit(visit_no == 1, seconds / 60)))
    except OSError as exc:
        raise ReplayInputError(f"{path}: {exc.strerror or exc}") from None
    if not sessions:
        raise ReplayInputError(f"{path}: no data rows")
    return [[v for _, v in sorted(sessions[k], key=lambda item: item[0])] for k in sorted(sessions)]


def _practice(org_key: str) -> dict[str, Any]:
    return {
        "format": "slotoptim.practice/1",
        "organisation": {"key": org_key, "name": "Queue replay", "timezone": "America/New_York"},
        "services": [
            {"key": "first-visit", "name": "First visit", "minutes": 15, "price": 0},
            {"key": "follow-up", "name": "Follow-up", "minutes": 15, "price": 0},
        ],
        "providers": [
            {
                "key": "physician",
                "name": "Physician",
                "timezone": "America/New_York",
                "services": ["first-visit", "follow-up"],
                "hours": [
                    {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "22:00"}
                ],
            }
        ],
    }


@dataclass(frozen=True)
class _Org:
    id: int
    provider: int
    services: dict[bool, int]  # first visit? -> service id


def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, DAY_START, tzinfo=TZ) + dt.timedelta(minutes=minutes)


def _book(conn: psycopg.Connection[Any], org: _Org, start: dt.datetime, visit: Visit, slot: int) -> int:
    row = conn.execute(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period, buffer_after_minutes)"
        " values (%s, %s, %s, tstzrange(%s, %s), 0) returning id",
        (org.id, org.provider, org.services[visit.first_visit], start, start + dt.timedelta(minutes=slot)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _load_history(
    conn: psycopg.Connection[Any], org: _Org, sessions: list[list[Visit]], slot: int, last_day: dt.date
) -> None:
    """Past sessions as completed visits, one a day, ending the day before last_day."""
    with conn.cursor() as cur:
        for back, visits in enumerate(reversed(sessions), start=1):
            day = last_day - dt.timedelta(days=back)
            clock = _at(day, 0)
            rows = []
            for i, visit in enumerate(visits):
                booked = _at(day, i * slot)
                clock = max(clock, booked)
                end = clock + dt.timedelta(minutes=visit.minutes)
                rows.append(
                    (
                        org.id,
                        org.provider,
                        org.services[visit.first_visit],
                        booked,
                        booked + dt.timedelta(minutes=slot),
                        clock,
                        end,
                    )
                )
                clock = end
            cur.executemany(
                "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period,"
                " buffer_after_minutes, status, actual_start, actual_end)"
                " values (%s, %s, %s, tstzrange(%s, %s), 0, 'completed', %s, %s)",
                rows,
            )


@dataclass
class _Patient:
    appointment_id: int
    visit: Visit
    arrival: dt.datetime | None
    entry_id: int | None = None


def _replay_day(
    conn: psycopg.Connection[Any],
    org: _Org,
    day: dt.date,
    visits: list[Visit],
    config: ReplayConfig,
    rng: random.Random,
    score: Callable[[int, dt.datetime, float, float, float, int, bool], None],
    called: Callable[[int, dt.datetime], None],
) -> int:
    patients: list[_Patient] = []
    for i, visit in enumerate(visits):
        booked = _at(day, i * config.slot_minutes)
        shows = rng.random() >= config.no_show_share
        offset = max(-45.0, min(30.0, rng.gauss(config.arrival_mean, config.arrival_sd)))
        patients.append(
            _Patient(
                _book(conn, org, booked, visit, config.slot_minutes),
                visit,
                booked + dt.timedelta(minutes=offset) if shows else None,
            )
        )
    by_entry: dict[int, _Patient] = {}
    arrivals = sorted((p for p in patients if p.arrival is not None), key=lambda p: p.arrival or day)
    free_at = _at(day, 0)  # the physician starts at 08:00
    in_service: tuple[int, dt.datetime] | None = None  # entry, end
    waiting = 0
    clock = _at(day, 0)

    def estimate(at: dt.datetime) -> None:
        rows = conn.execute(
            "select entry_id, queue_position, expected_minutes, low_minutes, high_minutes"
            " from slotoptim.queue_forecast(%s, %s, %s) where kind = 'waiting'",
            (org.id, org.provider, at),
        ).fetchall()
        busy = in_service is not None
        for entry_id, position, expected, low, high in rows:
            score(int(entry_id), at, float(expected), float(low), float(high), int(position) - 1, busy)

    while arrivals or waiting or in_service is not None:
        next_arrival = arrivals[0].arrival if arrivals else None
        next_end = in_service[1] if in_service is not None else None
        can_call = in_service is None and waiting > 0
        call_at = max(free_at, clock) if can_call else None
        candidates = [t for t in (next_arrival, next_end, call_at) if t is not None]
        now = max(clock, min(candidates))
        clock = now
        if next_end is not None and now == next_end and in_service is not None:
            conn.execute("select slotoptim.queue_move(%s, %s, 'done', %s)", (org.id, in_service[0], now))
            in_service, free_at = None, now
        elif call_at is not None and now == call_at:
            row = conn.execute(
                "select slotoptim.queue_call_next(%s, %s, 'replay', %s)", (org.id, org.provider, now)
            ).fetchone()
            assert row is not None and row[0] is not None
            entry = int(row[0])
            called(entry, now)
            start = now + WALK_TO_ROOM
            conn.execute("select slotoptim.queue_move(%s, %s, 'start', %s)", (org.id, entry, start))
            in_service = (entry, start + dt.timedelta(minutes=by_entry[entry].visit.minutes))
            waiting -= 1
        else:
            patient = arrivals.pop(0)
            row = conn.execute(
                "select slotoptim.queue_check_in(%s, %s, 'kiosk', '{}', %s)", (org.id, patient.appointment_id, now)
            ).fetchone()
            assert row is not None
            patient.entry_id = int(row[0])
            by_entry[patient.entry_id] = patient
            waiting += 1
        estimate(now)
    # Whoever never came is a no-show at the end of the day.
    conn.execute(
        "update slotoptim_private.appointment set status = 'no_show' where org_id = %s and status = 'booked'"
        " and lower(period) >= %s and lower(period) < %s",
        (org.id, _at(day, 0), _at(day, 24 * 60)),
    )
    return len(patients)


def replay(
    url: str, sessions: list[list[Visit]], config: ReplayConfig, progress: Callable[[str], None] | None = None
) -> ReplayReport:
    """Runs the replay in a scratch organisation of the database at url (removed afterwards)."""
    needed = config.history_sessions + config.test_sessions
    if needed > len(sessions):
        raise ReplayInputError(
            f"--history-sessions + --test-sessions: {needed} sessions asked for, the data has {len(sessions)}"
        )
    history = sessions[len(sessions) - needed : len(sessions) - config.test_sessions]
    tests = sessions[len(sessions) - config.test_sessions :]
    rng = random.Random(config.seed)
    org_key = f"queue-replay-{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        import_practice(conn, _practice(org_key))
        try:
            return _run(conn, org_key, history, tests, config, rng, progress)
        finally:
            conn.execute("delete from slotoptim_private.organisation where key = %s", (org_key,))


def _run(
    conn: psycopg.Connection[Any],
    org_key: str,
    history: list[list[Visit]],
    tests: list[list[Visit]],
    config: ReplayConfig,
    rng: random.Random,
    progress: Callable[[str], None] | None,
) -> ReplayReport:
    org_row = conn.execute("select id from slotoptim_private.organisation where key = %s", (org_key,)).fetchone()
    assert org_row is not None
    org_id = int(org_row[0])
    provider = conn.execute("select id from slotoptim_private.provider where org_id = %s", (org_id,)).fetchone()
    services = dict(
        conn.execute("select key, id from slotoptim_private.service where org_id = %s", (org_id,)).fetchall()
    )
    assert provider is not None
    org = _Org(org_id, int(provider[0]), {True: int(services["first-visit"]), False: int(services["follow-up"])})
    conn.execute(
        "insert into slotoptim_private.queue_settings (org_id, default_service_minutes) values (%s, %s)",
        (org_id, config.slot_minutes),
    )
    _load_history(conn, org, history, config.slot_minutes, FIRST_DAY)
    learned_mean = statistics.fmean(v.minutes for s in history for v in s) if history else float(config.slot_minutes)

    pending: dict[int, list[tuple[dt.datetime, float, float, float, int, bool]]] = {}
    model, naive_default, naive_learned = Scores(), Scores(), Scores()
    inside = 0
    estimates = 0

    def score(entry: int, at: dt.datetime, expected: float, low: float, high: float, ahead: int, busy: bool) -> None:
        pending.setdefault(entry, []).append((at, expected, low, high, ahead, busy))

    def called(entry: int, at: dt.datetime) -> None:
        nonlocal inside, estimates
        for given_at, expected, low, high, ahead, busy in pending.pop(entry, []):
            actual = (at - given_at).total_seconds() / 60
            people = ahead + (1 if busy else 0)
            model.add(expected - actual)
            naive_default.add(people * config.slot_minutes - actual)
            naive_learned.add(people * learned_mean - actual)
            inside += low <= actual <= high
            estimates += 1

    patients = 0
    for n, visits in enumerate(tests):
        day = FIRST_DAY + dt.timedelta(days=n)
        patients += _replay_day(conn, org, day, visits, config, rng, score, called)
        if progress is not None:
            progress(f"session {n + 1}/{len(tests)}: MAE so far {model.mae:.2f} min (naive {naive_default.mae:.2f})")
    return ReplayReport(
        sessions=len(tests),
        patients=patients,
        estimates=estimates,
        model=model,
        naive_default=naive_default,
        naive_learned=naive_learned,
        inside_interval=inside,
        default_service_minutes=config.slot_minutes,
        learned_mean_minutes=learned_mean,
    )
