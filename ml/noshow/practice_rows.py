"""A practice's appointments with their booking-time features, read from the database.

The features come from slotoptim_private.noshow_features() (sql/58_fn_noshow_features.sql), so the
leakage rule lives in one place, in SQL; this module only turns the rows into numpy columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import dict_row

# Numeric columns of the SQL function, in the order the practice model uses them.
NUMERIC_COLUMNS: tuple[str, ...] = (
    "lead_days",
    "same_day",
    "weekday",
    "start_hour",
    "booked_weekday",
    "booked_hour",
    "age",
    "age_band",
    "prior_visits",
    "prior_no_shows",
    "prior_cancellations",
    "prior_no_show_rate",
    "days_since_last_visit",
    "last_visit_no_show",
    "new_customer",
    "sms_reminder",
    "service_minutes",
)

Which = Literal["labelled", "upcoming"]

_QUERY = """
select f.*,
       p.key as provider_key,
       s.key as service_key,
       (f.starts_at at time zone p.timezone)::date as local_day
  from slotoptim_private.noshow_features(%(org)s::bigint, %(at)s, %(ids)s::bigint[]) as f
  join slotoptim_private.provider as p on p.id = f.provider_id
  join slotoptim_private.service as s on s.id = f.service_id
 where case %(which)s::text
         when 'labelled' then f.no_show is not null
         else f.status in ('booked', 'confirmed') and f.starts_at >= %(at)s
       end
 order by f.starts_at, f.appointment_id
"""


@dataclass(frozen=True)
class PracticeRows:
    appointment_id: npt.NDArray[np.int64]
    org_id: npt.NDArray[np.int64]
    # The appointment's local date (the provider's zone): what time splits are made on.
    local_day: npt.NDArray[np.datetime64]
    provider_key: npt.NDArray[np.str_]
    service_key: npt.NDArray[np.str_]
    # 1.0 missed, 0.0 attended, NaN not known (upcoming).
    label: npt.NDArray[np.float64]
    # NUMERIC_COLUMNS as float columns, NaN for SQL null.
    numeric: dict[str, npt.NDArray[np.float64]]

    def __len__(self) -> int:
        return len(self.appointment_id)

    def select(self, mask_or_index: npt.NDArray[Any]) -> PracticeRows:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "numeric"}
        picked = {name: column[mask_or_index] for name, column in values.items()}
        return PracticeRows(**picked, numeric={k: v[mask_or_index] for k, v in self.numeric.items()})

    @property
    def no_show(self) -> npt.NDArray[np.bool_]:
        """Labels as booleans; only meaningful for labelled rows."""
        return np.asarray(self.label == 1.0, dtype=np.bool_)

    def day_range(self) -> tuple[str, str]:
        if len(self) == 0:
            raise ValueError("no rows, no day range")
        return str(self.local_day.min()), str(self.local_day.max())


def read_practice_rows(
    conn: psycopg.Connection[Any],
    org_id: int | None,
    at: datetime,
    which: Which,
    appointment_ids: Sequence[int] | None = None,
) -> PracticeRows:
    """Labelled rows (past, marked attended or missed) or upcoming booked/confirmed rows as of `at`."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            _QUERY,
            {
                "org": org_id,
                "at": at,
                "ids": None if appointment_ids is None else list(appointment_ids),
                "which": which,
            },
        )
        rows = cur.fetchall()
    return rows_from_records(rows)


def rows_from_records(rows: Sequence[dict[str, Any]]) -> PracticeRows:
    def column(name: str) -> npt.NDArray[np.float64]:
        return np.array([np.nan if r[name] is None else float(r[name]) for r in rows], dtype=np.float64)

    return PracticeRows(
        appointment_id=np.array([r["appointment_id"] for r in rows], dtype=np.int64),
        org_id=np.array([r["org_id"] for r in rows], dtype=np.int64),
        local_day=np.array([r["local_day"] for r in rows], dtype="datetime64[D]"),
        provider_key=np.array([r["provider_key"] for r in rows], dtype=np.str_),
        service_key=np.array([r["service_key"] for r in rows], dtype=np.str_),
        label=column("no_show"),
        numeric={name: column(name) for name in NUMERIC_COLUMNS},
    )
