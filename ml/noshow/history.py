"""A patient's attendance record as it was known when a booking was made.

Leakage rule: an earlier appointment counts only if its day is strictly before the *day the booking
was made* (scheduled day), not merely before the appointment day. An appointment on day D has an
outcome only after D; a booking made on day S can only know outcomes of days < S. Appointments
between S and the appointment day, on the appointment day, or later are invisible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.table import AppointmentTable


@dataclass(frozen=True)
class PatientHistory:
    prior_visits: npt.NDArray[np.int64]
    prior_no_shows: npt.NDArray[np.int64]
    # NaN when the patient has no known earlier appointment.
    days_since_last_visit: npt.NDArray[np.float64]
    # 1.0 when any appointment on the last known day was missed; NaN when there is none.
    last_visit_no_show: npt.NDArray[np.float64]


def patient_history(rows: AppointmentTable, known: AppointmentTable) -> PatientHistory:
    """For every row, the same patient's appointments in `known` whose day < the row's scheduled day.

    `known` is everything the system could have recorded (for evaluation: the training file, plus the
    test file itself, since earlier test days are past by the time later ones are booked).
    """
    n = len(rows)
    if n == 0 or len(known) == 0:
        empty = np.full(n, np.nan)
        return PatientHistory(np.zeros(n, np.int64), np.zeros(n, np.int64), empty, empty.copy())

    _, codes = np.unique(np.concatenate([known.patient_id, rows.patient_id]), return_inverse=True)
    known_codes = codes[: len(known)].astype(np.int64)
    row_codes = codes[len(known) :].astype(np.int64)
    known_days = known.appointment_day.astype(np.int64)
    row_cutoffs = rows.scheduled_day.astype(np.int64)
    known_missed = known.no_show.astype(np.int64)

    # Sort by patient, then day, then outcome: within the last day a miss sorts last, so "last visit
    # missed" reads "any miss on the last day" whatever the input order.
    order = np.lexsort((known_missed, known_days, known_codes))
    sorted_days = known_days[order]
    sorted_missed = known_missed[order]

    # One sortable key per (patient, day) lets searchsorted answer every row at once.
    base = min(int(known_days.min()), int(row_cutoffs.min()))
    span = max(int(known_days.max()), int(row_cutoffs.max())) - base + 1
    known_keys = known_codes[order] * span + (sorted_days - base)
    block_start = np.searchsorted(known_keys, row_codes * span, side="left")
    before_cutoff = np.searchsorted(known_keys, row_codes * span + (row_cutoffs - base), side="left")

    prior_visits = (before_cutoff - block_start).astype(np.int64)
    missed_running = np.concatenate([[0], np.cumsum(sorted_missed)])
    prior_no_shows = (missed_running[before_cutoff] - missed_running[block_start]).astype(np.int64)

    has_prior = prior_visits > 0
    last = np.where(has_prior, before_cutoff - 1, 0)
    days_since = np.where(has_prior, (row_cutoffs - sorted_days[last]).astype(np.float64), np.nan)
    last_missed = np.where(has_prior, sorted_missed[last].astype(np.float64), np.nan)
    return PatientHistory(prior_visits, prior_no_shows, days_since, last_missed)
