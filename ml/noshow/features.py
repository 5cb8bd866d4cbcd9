"""Booking-time features for the no-show model.

Every feature is known when the booking is made: the booking's own fields, the patient's record of
appointments on days before the booking day (see history.py), and a neighbourhood encoding fitted on
the training fold. Nothing reads the row's own outcome or anything dated on/after its booking day;
tests/py/ml/noshow/test_noshow_leakage.py enforces that.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.encoding import NeighbourhoodEncoding
from slotoptim.ml.noshow.history import patient_history
from slotoptim.ml.noshow.table import AppointmentTable

FEATURE_NAMES: tuple[str, ...] = (
    "lead_days",
    "same_day",
    "appointment_weekday",
    "scheduled_weekday",
    "scheduled_hour",
    "age",
    "age_band",
    "female",
    "scholarship",
    "hypertension",
    "diabetes",
    "alcoholism",
    "handicap",
    "sms_received",
    "prior_visits",
    "prior_no_shows",
    "prior_no_show_rate",
    "days_since_last_visit",
    "last_visit_no_show",
    "new_patient",
    "neighbourhood_no_show_rate",
    "neighbourhood_share",
)

# Lower bounds of the age bands (years): child, teen, young adult, adult, middle age, senior, elderly.
AGE_BAND_STARTS = np.array([0, 13, 18, 30, 45, 60, 75])


def weekday(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Monday = 0 .. Sunday = 6 (1970-01-01, day 0, was a Thursday)."""
    return ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


def feature_matrix(
    rows: AppointmentTable, known: AppointmentTable, encoding: NeighbourhoodEncoding
) -> npt.NDArray[np.float64]:
    """One row per appointment, columns in FEATURE_NAMES order; NaN marks "unknown" (XGBoost's missing)."""
    history = patient_history(rows, known)
    scheduled_day = rows.scheduled_day
    lead_days = (rows.appointment_day - scheduled_day).astype(np.int64)
    scheduled_hour = (rows.scheduled_at - scheduled_day).astype("timedelta64[s]").astype(np.int64) / 3600.0
    age_band = np.searchsorted(AGE_BAND_STARTS, rows.age, side="right") - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        prior_rate = np.where(history.prior_visits > 0, history.prior_no_shows / history.prior_visits, np.nan)
    neighbourhood_rate, neighbourhood_share = encoding.transform(rows.neighbourhood)
    columns: dict[str, npt.NDArray[np.float64]] = {
        "lead_days": lead_days.astype(np.float64),
        "same_day": (lead_days == 0).astype(np.float64),
        "appointment_weekday": weekday(rows.appointment_day).astype(np.float64),
        "scheduled_weekday": weekday(scheduled_day).astype(np.float64),
        "scheduled_hour": scheduled_hour,
        "age": rows.age.astype(np.float64),
        "age_band": age_band.astype(np.float64),
        "female": (rows.gender == "F").astype(np.float64),
        "scholarship": rows.scholarship.astype(np.float64),
        "hypertension": rows.hypertension.astype(np.float64),
        "diabetes": rows.diabetes.astype(np.float64),
        "alcoholism": rows.alcoholism.astype(np.float64),
        "handicap": rows.handicap.astype(np.float64),
        "sms_received": rows.sms_received.astype(np.float64),
        "prior_visits": history.prior_visits.astype(np.float64),
        "prior_no_shows": history.prior_no_shows.astype(np.float64),
        "prior_no_show_rate": prior_rate.astype(np.float64),
        "days_since_last_visit": history.days_since_last_visit,
        "last_visit_no_show": history.last_visit_no_show,
        "new_patient": (history.prior_visits == 0).astype(np.float64),
        "neighbourhood_no_show_rate": neighbourhood_rate,
        "neighbourhood_share": neighbourhood_share,
    }
    return np.column_stack([columns[name] for name in FEATURE_NAMES])
