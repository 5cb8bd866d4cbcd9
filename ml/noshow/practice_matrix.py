"""Feature matrices from a practice's rows: the practice model's own, and the Kaggle model's.

Practice model: every SQL feature as a number, plus provider and service one-hot columns (the
categories seen in training; an unseen provider or service scores with all its columns at 0).

Kaggle model (the fallback for practices with little history): the same booking-time facts mapped
onto ml/noshow/features.py's FEATURE_NAMES. What the calendar does not record is set to the value
most Kaggle patients have, so the model scores the practice's customers as typical patients there:
no scholarship, no recorded condition or handicap, female (65 % of the Kaggle rows); the
neighbourhood gets the encoding's "unseen" values (base rate, share 0). The Kaggle record counts
every earlier appointment as a visit, missed or not, so prior_visits = attended + missed here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.features import FEATURE_NAMES
from slotoptim.ml.noshow.practice_rows import NUMERIC_COLUMNS, PracticeRows

PROVIDER_PREFIX = "provider="
SERVICE_PREFIX = "service="

KAGGLE_TYPICAL: dict[str, float] = {
    "female": 1.0,
    "scholarship": 0.0,
    "hypertension": 0.0,
    "diabetes": 0.0,
    "alcoholism": 0.0,
    "handicap": 0.0,
    "neighbourhood_share": 0.0,
}


def practice_columns(providers: list[str], services: list[str]) -> tuple[str, ...]:
    return (
        *NUMERIC_COLUMNS,
        *(PROVIDER_PREFIX + p for p in providers),
        *(SERVICE_PREFIX + s for s in services),
    )


def practice_matrix(rows: PracticeRows, columns: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """Rows x columns, in the order of `columns` (from practice_columns at training time)."""
    out = np.empty((len(rows), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        if name.startswith(PROVIDER_PREFIX):
            out[:, j] = rows.provider_key == name.removeprefix(PROVIDER_PREFIX)
        elif name.startswith(SERVICE_PREFIX):
            out[:, j] = rows.service_key == name.removeprefix(SERVICE_PREFIX)
        else:
            out[:, j] = rows.numeric[name]
    return out


def kaggle_matrix(rows: PracticeRows, neighbourhood_base_rate: float) -> npt.NDArray[np.float64]:
    """Rows x FEATURE_NAMES of the Kaggle model."""
    f = rows.numeric
    n = len(rows)
    earlier = f["prior_visits"] + f["prior_no_shows"]
    mapped: dict[str, npt.NDArray[np.float64]] = {
        "lead_days": f["lead_days"],
        "same_day": f["same_day"],
        # The Kaggle features count weekdays from Monday = 0; SQL's ISO weekday from Monday = 1.
        "appointment_weekday": f["weekday"] - 1,
        "scheduled_weekday": f["booked_weekday"] - 1,
        "scheduled_hour": f["booked_hour"],
        "age": f["age"],
        "age_band": f["age_band"],
        "sms_received": f["sms_reminder"],
        "prior_visits": earlier,
        "prior_no_shows": f["prior_no_shows"],
        "prior_no_show_rate": f["prior_no_show_rate"],
        "days_since_last_visit": f["days_since_last_visit"],
        "last_visit_no_show": f["last_visit_no_show"],
        # NaN stays NaN (customer unknown): NaN == 0 is False, so mask it back.
        "new_patient": np.where(np.isnan(earlier), np.nan, (earlier == 0).astype(np.float64)),
        "neighbourhood_no_show_rate": np.full(n, neighbourhood_base_rate),
    }
    for name, value in KAGGLE_TYPICAL.items():
        mapped[name] = np.full(n, value)
    return np.column_stack([mapped[name] for name in FEATURE_NAMES]) if n else np.empty((0, len(FEATURE_NAMES)))
