"""The check for the slotoptim_app role when the API starts: a request arriving while the first one
is still checking waits for its answer instead of failing with AppRoleMissing (a 500 the 80-round
claim race found on the first round)."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from api.conftest import ApiDb
from psycopg.rows import dict_row

from slotoptim.api.db import Conn, Database


class _SlowConn(Conn):
    """A real connection whose first statement waits until the test lets it run."""

    release = threading.Event()
    entered = threading.Event()

    def execute(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.entered.set()
        self.release.wait(timeout=30)
        return super().execute(*args, **kwargs)


def test_a_second_request_waits_for_the_first_role_check(api_db: ApiDb) -> None:
    database = Database(api_db.url)
    first_answer: list[bool | BaseException] = []
    with (
        _SlowConn.connect(api_db.url, row_factory=dict_row) as slow,
        psycopg.connect(api_db.url, row_factory=dict_row) as quick,
    ):

        def first() -> None:
            try:
                first_answer.append(database._use_app_role(slow))
            except BaseException as exc:  # re-raised below
                first_answer.append(exc)

        checking = threading.Thread(target=first)
        checking.start()
        assert _SlowConn.entered.wait(timeout=30)
        second: list[bool | BaseException] = []

        def later() -> None:
            try:
                second.append(database._use_app_role(quick))
            except BaseException as exc:
                second.append(exc)

        waiting = threading.Thread(target=later)
        waiting.start()
        waiting.join(timeout=0.5)  # before the fix it had already failed by now
        _SlowConn.release.set()
        checking.join()
        waiting.join()
    assert first_answer == [True]
    assert second == [True], second
