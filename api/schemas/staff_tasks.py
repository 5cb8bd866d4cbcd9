"""Front-desk tasks from reminders (issue 12): reminder calls and reschedule requests."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from slotoptim.api.schemas.common import Id

TaskKind = Literal["reminder_call", "reschedule"]


class StaffTask(msgspec.Struct, kw_only=True):
    id: Id
    kind: TaskKind
    due_at: dt.datetime
    done_at: dt.datetime | None
    appointment_id: int
    appointment_start: dt.datetime
    customer: str | None


class StaffTaskList(msgspec.Struct, kw_only=True):
    items: list[StaffTask]
