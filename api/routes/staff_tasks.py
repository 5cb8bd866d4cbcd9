"""/v1/staff-tasks: reminder calls to high-risk customers and reschedule requests (issue 12)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from slotoptim.api.queries import staff_tasks as q
from slotoptim.api.routes.deps import Ctx, Db, Now
from slotoptim.api.routes.params import id_path
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.staff_tasks import StaffTask, StaffTaskList
from slotoptim.api.transactions import in_transaction

TaskId = Annotated[int, id_path("task")]


class StaffTaskController(Controller):
    path = "/v1/staff-tasks"
    tags = ("appointments",)

    @get(
        "/",
        operation_id="listStaffTasks",
        summary="Front-desk tasks from reminders",
        sync_to_thread=True,
        responses=errors(not_found=False),
    )
    def list_tasks(
        self,
        db: Db,
        ctx: Ctx,
        done: Annotated[bool, QueryParameter(description="include tasks already done")] = False,
    ) -> StaffTaskList:
        """Reminder calls (appointments at high no-show risk: outreach only) and reschedule requests
        (a customer replied R), soonest due first; open ones unless `done=true`."""
        with db.transaction(ctx) as conn:
            return q.list_tasks(conn, done)

    @post(
        "/{task_id:str}/done",
        operation_id="finishStaffTask",
        summary="Mark a front-desk task done",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=errors(),
    )
    def finish(self, db: Db, ctx: Ctx, now: Now, task_id: TaskId) -> StaffTask:
        """Marks the task done (again: no change)."""
        return in_transaction(db, ctx, lambda conn: q.finish(conn, task_id, now))
