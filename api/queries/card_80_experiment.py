"""Dashboard card "Message experiment": the running (or last) experiment's readout
(api/queries/dashboard_experiments), shown only when the practice has one."""

from __future__ import annotations

from slotoptim.api.db import Conn
from slotoptim.api.queries.dashboard import Context
from slotoptim.api.queries.dashboard_experiments import ExperimentCard, experiment_card


def load(conn: Conn, ctx: Context) -> ExperimentCard | None:
    return experiment_card(conn)
