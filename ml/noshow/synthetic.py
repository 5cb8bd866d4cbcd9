"""Synthetic appointments with a known no-show mechanism, for tests and demos that must not need the real data.

Misses grow with lead time, with the patient's earlier misses (a persistent per-patient propensity)
and without an SMS reminder, so a model has something honest to find. Written out in the Kaggle
column layout by `write_kaggle_csv`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from slotoptim.ml.noshow.table import AppointmentTable

KAGGLE_HEADER = (
    "PatientId",
    "AppointmentID",
    "Gender",
    "ScheduledDay",
    "AppointmentDay",
    "Age",
    "Neighbourhood",
    "Scholarship",
    "Hipertension",
    "Diabetes",
    "Alcoholism",
    "Handcap",
    "SMS_received",
    "No-show",
)


def synthetic_appointments(
    rows: int, *, patients: int | None = None, days: int = 40, seed: int = 0, first_day: str = "2016-04-01"
) -> AppointmentTable:
    rng = np.random.default_rng(seed)
    patient_count = patients or max(1, rows // 3)
    patient = rng.integers(0, patient_count, rows)
    propensity = rng.normal(0.0, 1.0, patient_count)[patient]
    appointment_day = np.datetime64(first_day, "D") + rng.integers(0, days, rows).astype("timedelta64[D]")
    lead = np.minimum(rng.geometric(0.12, rows) - 1, 60)
    booked_seconds = rng.integers(7 * 3600, 19 * 3600, rows).astype("timedelta64[s]")
    scheduled_at = (appointment_day - lead.astype("timedelta64[D]")).astype("datetime64[s]") + booked_seconds
    sms = (lead >= 3) & (rng.random(rows) < 0.6)
    logit = -2.2 + 0.05 * np.minimum(lead, 30) + 0.8 * propensity - 0.3 * sms
    no_show = rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))
    return AppointmentTable(
        patient_id=np.array([f"P{p:06d}" for p in patient], dtype=np.str_),
        appointment_id=np.arange(5_000_000, 5_000_000 + rows, dtype=np.int64),
        scheduled_at=scheduled_at,
        appointment_day=appointment_day,
        age=rng.integers(0, 95, rows).astype(np.int64),
        gender=np.where(rng.random(rows) < 0.65, "F", "M").astype(np.str_),
        neighbourhood=np.array([f"BAIRRO {n}" for n in rng.integers(0, 12, rows)], dtype=np.str_),
        scholarship=rng.random(rows) < 0.1,
        hypertension=rng.random(rows) < 0.2,
        diabetes=rng.random(rows) < 0.07,
        alcoholism=rng.random(rows) < 0.03,
        handicap=(rng.random(rows) < 0.02).astype(np.int64),
        sms_received=sms,
        no_show=no_show,
    )


def write_kaggle_csv(table: AppointmentTable, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KAGGLE_HEADER)
        for i in range(len(table)):
            writer.writerow(
                (
                    table.patient_id[i],
                    int(table.appointment_id[i]),
                    table.gender[i],
                    f"{table.scheduled_at[i]}Z",
                    f"{table.appointment_day[i]}T00:00:00Z",
                    int(table.age[i]),
                    table.neighbourhood[i],
                    int(table.scholarship[i]),
                    int(table.hypertension[i]),
                    int(table.diabetes[i]),
                    int(table.alcoholism[i]),
                    int(table.handicap[i]),
                    int(table.sms_received[i]),
                    "Yes" if table.no_show[i] else "No",
                )
            )
