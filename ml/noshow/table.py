"""The typed, column-wise table of appointments the no-show model learns from.

Columns are numpy arrays of equal length so features can be computed set-wise; the Kaggle importer
fills it today and the database feature view will fill it later.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class AppointmentTable:
    patient_id: npt.NDArray[np.str_]
    appointment_id: npt.NDArray[np.int64]
    # When the booking was made (second precision, as recorded).
    scheduled_at: npt.NDArray[np.datetime64]
    # The day of the appointment; the source has no time of day.
    appointment_day: npt.NDArray[np.datetime64]
    age: npt.NDArray[np.int64]
    gender: npt.NDArray[np.str_]
    neighbourhood: npt.NDArray[np.str_]
    scholarship: npt.NDArray[np.bool_]
    hypertension: npt.NDArray[np.bool_]
    diabetes: npt.NDArray[np.bool_]
    alcoholism: npt.NDArray[np.bool_]
    # 0 = none, 1..4 = number of handicaps recorded.
    handicap: npt.NDArray[np.int64]
    sms_received: npt.NDArray[np.bool_]
    no_show: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        lengths = {f.name: len(getattr(self, f.name)) for f in fields(self)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns of unequal length: {lengths}")

    def __len__(self) -> int:
        return len(self.appointment_id)

    @property
    def scheduled_day(self) -> npt.NDArray[np.datetime64]:
        return self.scheduled_at.astype("datetime64[D]")

    def select(self, mask_or_index: npt.NDArray[Any]) -> AppointmentTable:
        """Rows picked by a boolean mask or an index array, in that order."""
        return AppointmentTable(**{f.name: getattr(self, f.name)[mask_or_index] for f in fields(self)})

    def with_labels(self, no_show: npt.NDArray[np.bool_]) -> AppointmentTable:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["no_show"] = no_show
        return AppointmentTable(**values)

    def day_range(self) -> tuple[str, str]:
        """First and last appointment day, ISO dates."""
        if len(self) == 0:
            raise ValueError("empty table has no day range")
        return str(self.appointment_day.min()), str(self.appointment_day.max())


def concat(tables: list[AppointmentTable]) -> AppointmentTable:
    return AppointmentTable(
        **{f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(AppointmentTable)}
    )


def sample_patients(table: AppointmentTable, fraction: float, seed: int = 0) -> AppointmentTable:
    """All appointments of a random `fraction` of the patients: a smaller table whose histories stay whole."""
    patients = np.unique(table.patient_id)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(patients, size=max(1, round(fraction * len(patients))), replace=False)
    return table.select(np.isin(table.patient_id, chosen))
