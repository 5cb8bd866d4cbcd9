"""Importer for the Kaggle "Medical Appointment No Shows" CSV (Vitória, Brazil, 2016).

Known traps in that file, handled here and counted in the ImportReport:
- the target is `No-show == "Yes"` (the column says whether the patient did NOT come);
- a few rows have negative ages or an appointment day before the day the booking was made: dropped;
- AppointmentDay carries a midnight time that means "no time recorded": only the date is kept;
- PatientId is written as a float in some copies (and a handful are fractional): kept as text.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from slotoptim.ml.noshow.table import AppointmentTable

# Canonical column -> spellings accepted in the header (the Kaggle file misspells two of them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "PatientId": ("PatientId",),
    "AppointmentID": ("AppointmentID",),
    "Gender": ("Gender",),
    "ScheduledDay": ("ScheduledDay",),
    "AppointmentDay": ("AppointmentDay",),
    "Age": ("Age",),
    "Neighbourhood": ("Neighbourhood", "Neighborhood"),
    "Scholarship": ("Scholarship",),
    "Hipertension": ("Hipertension", "Hypertension"),
    "Diabetes": ("Diabetes",),
    "Alcoholism": ("Alcoholism",),
    "Handcap": ("Handcap", "Handicap"),
    "SMS_received": ("SMS_received",),
    "No-show": ("No-show", "No_show", "NoShow"),
}

T = TypeVar("T", bound=np.generic)


class KaggleFormatError(ValueError):
    """The file is not in the Kaggle no-show format; the message names file, column and row."""


@dataclass(frozen=True)
class ImportReport:
    path: str
    rows_read: int
    dropped_negative_age: int
    dropped_appointment_before_booking: int
    dropped_duplicate_appointment_id: int

    @property
    def rows_kept(self) -> int:
        return (
            self.rows_read
            - self.dropped_negative_age
            - self.dropped_appointment_before_booking
            - self.dropped_duplicate_appointment_id
        )


def read_noshow_csv(path: Path | str) -> tuple[AppointmentTable, ImportReport]:
    """Read, validate and clean one file; raises KaggleFormatError or OSError."""
    path = Path(path)
    raw = _read_columns(path)
    parser = _ColumnParser(path, raw)
    table = AppointmentTable(
        patient_id=parser.text("PatientId", normalise=_normalise_patient_id),
        appointment_id=parser.parsed("AppointmentID", int, np.int64),
        scheduled_at=parser.timestamps("ScheduledDay", "datetime64[s]"),
        appointment_day=parser.timestamps("AppointmentDay", "datetime64[D]"),
        age=parser.parsed("Age", int, np.int64),
        gender=parser.text("Gender"),
        neighbourhood=parser.text("Neighbourhood"),
        scholarship=parser.flags("Scholarship"),
        hypertension=parser.flags("Hipertension"),
        diabetes=parser.flags("Diabetes"),
        alcoholism=parser.flags("Alcoholism"),
        handicap=parser.parsed("Handcap", int, np.int64),
        sms_received=parser.flags("SMS_received"),
        no_show=parser.yes_no("No-show"),
    )
    return _clean(table, str(path))


def _clean(table: AppointmentTable, path: str) -> tuple[AppointmentTable, ImportReport]:
    negative_age = table.age < 0
    before_booking = (table.appointment_day < table.scheduled_day) & ~negative_age
    keep = ~negative_age & ~before_booking
    # Keep the first row of a repeated AppointmentID; repeats would double-count a visit in the history.
    _, first_index = np.unique(table.appointment_id, return_index=True)
    is_first = np.zeros(len(table), dtype=bool)
    is_first[first_index] = True
    duplicate = keep & ~is_first
    keep &= is_first
    report = ImportReport(
        path=path,
        rows_read=len(table),
        dropped_negative_age=int(negative_age.sum()),
        dropped_appointment_before_booking=int(before_booking.sum()),
        dropped_duplicate_appointment_id=int(duplicate.sum()),
    )
    return table.select(keep), report


def _read_columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise KaggleFormatError(f"{path}: empty file, expected a header row") from None
        positions: dict[str, int] = {}
        for canonical, spellings in COLUMNS.items():
            found = [header.index(s) for s in spellings if s in header]
            if not found:
                raise KaggleFormatError(f"{path}: missing column {canonical!r} (header: {','.join(header)[:200]})")
            positions[canonical] = found[0]
        columns: dict[str, list[str]] = {name: [] for name in positions}
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise KaggleFormatError(f"{path}: line {line_number} has {len(row)} fields, header has {len(header)}")
            for name, position in positions.items():
                columns[name].append(row[position].strip())
    if not columns["AppointmentID"]:
        raise KaggleFormatError(f"{path}: no data rows")
    return columns


def _normalise_patient_id(value: str) -> str:
    # "29872499824296.0" and "29872499824296" are the same patient.
    return value[:-2] if value.endswith(".0") else value


class _ColumnParser:
    def __init__(self, path: Path, raw: dict[str, list[str]]) -> None:
        self._path = path
        self._raw = raw

    def _fail(self, column: str, row_index: int, problem: str) -> KaggleFormatError:
        value = self._raw[column][row_index]
        # +2: one for the header line, one because lines count from 1.
        return KaggleFormatError(f"{self._path}: column {column!r}, line {row_index + 2}: {problem} ({value!r})")

    def text(self, column: str, normalise: Callable[[str], str] | None = None) -> npt.NDArray[np.str_]:
        values = self._raw[column]
        for index, value in enumerate(values):
            if not value:
                raise self._fail(column, index, "empty value")
        if normalise is not None:
            values = [normalise(v) for v in values]
        return np.array(values, dtype=np.str_)

    def parsed(self, column: str, convert: Callable[[str], int], dtype: type[T]) -> npt.NDArray[T]:
        out: list[int] = []
        for index, value in enumerate(self._raw[column]):
            try:
                out.append(convert(value))
            except ValueError:
                raise self._fail(column, index, "not an integer") from None
        return np.array(out, dtype=dtype)

    def flags(self, column: str) -> npt.NDArray[np.bool_]:
        return self._choice(column, {"0": False, "1": True})

    def yes_no(self, column: str) -> npt.NDArray[np.bool_]:
        return self._choice(column, {"No": False, "Yes": True})

    def _choice(self, column: str, mapping: dict[str, bool]) -> npt.NDArray[np.bool_]:
        out: list[bool] = []
        for index, value in enumerate(self._raw[column]):
            if value not in mapping:
                raise self._fail(column, index, f"expected one of {sorted(mapping)}")
            out.append(mapping[value])
        return np.array(out, dtype=bool)

    def timestamps(self, column: str, unit: str) -> npt.NDArray[np.datetime64]:
        # Kaggle writes "2016-04-29T18:38:08Z"; other copies use a space and no zone. Both are local clinic time.
        cleaned = _strip_zone(self._raw[column])
        for index, value in enumerate(cleaned):
            if not value or value.upper() == "NAT":
                # numpy would silently read these as NaT.
                raise self._fail(column, index, "missing date")
        try:
            return np.array(cleaned, dtype="datetime64[s]").astype(unit)
        except ValueError:
            for index, value in enumerate(cleaned):
                try:
                    np.datetime64(value, "s")
                except ValueError:
                    raise self._fail(column, index, "not a date/time like 2016-04-29T18:38:08Z") from None
            raise


def _strip_zone(values: Sequence[str]) -> list[str]:
    return [v[:-1].replace(" ", "T") if v.endswith("Z") else v.replace(" ", "T") for v in values]
