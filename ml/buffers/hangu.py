"""Reader for the Hangu outpatient service-time data (Feng et al. 2023, Data 8(3):47).

One physician's consultations: `Session` numbers the clinic sessions in time order (1..381, a
morning or afternoon each), `Visit.No` counts the patient's visits (1 = first visit), `ServTime` is
the consultation length in seconds. The file has months and weekdays but no dates, so time order
comes from `Session`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

REQUIRED_COLUMNS = ("Session", "Visit.No", "ServTime")
FIRST_VISIT = "first visit"
FOLLOW_UP = "follow-up"


class HanguFormatError(ValueError):
    """The file is not in the Hangu format; the message names file, column and line."""


@dataclass(frozen=True)
class HanguVisits:
    session: npt.NDArray[np.int64]
    visit_number: npt.NDArray[np.int64]
    service_minutes: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.session)

    @property
    def service(self) -> npt.NDArray[np.str_]:
        """First visits and follow-ups are booked as different services in most clinics."""
        return np.where(self.visit_number == 1, FIRST_VISIT, FOLLOW_UP)

    def select(self, mask: npt.NDArray[np.bool_]) -> HanguVisits:
        return HanguVisits(self.session[mask], self.visit_number[mask], self.service_minutes[mask])


def read_hangu_csv(path: Path | str) -> HanguVisits:
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in REQUIRED_COLUMNS:
            if column not in header:
                raise HanguFormatError(f"{path}: missing column {column!r} (header: {','.join(header)[:200]})")
        values: dict[str, list[int]] = {column: [] for column in REQUIRED_COLUMNS}
        for line_number, row in enumerate(reader, start=2):
            for column in REQUIRED_COLUMNS:
                text = (row.get(column) or "").strip()
                try:
                    number = int(text)
                except ValueError:
                    raise HanguFormatError(
                        f"{path}: column {column!r}, line {line_number}: not an integer ({text!r})"
                    ) from None
                if number <= 0:
                    raise HanguFormatError(
                        f"{path}: column {column!r}, line {line_number}: must be positive ({number})"
                    )
                values[column].append(number)
    if not values["ServTime"]:
        raise HanguFormatError(f"{path}: no data rows")
    return HanguVisits(
        session=np.array(values["Session"], dtype=np.int64),
        visit_number=np.array(values["Visit.No"], dtype=np.int64),
        service_minutes=np.array(values["ServTime"], dtype=np.float64) / 60.0,
    )
