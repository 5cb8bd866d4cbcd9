"""Calendar-sync fixtures: the Google stand-in, pointed at by the environment variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from calsync.google_standin import GoogleStandin, running
from calsync.graph_standin import GraphStandin
from calsync.graph_standin import running as running_graph
from calsync.radicale_server import radicale
from integrations.practice import use_test_key


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleStandin]:
    use_test_key(monkeypatch)
    with running() as standin:
        monkeypatch.setenv("GOOGLE_CALENDAR_API_URL", standin.api_url)
        monkeypatch.setenv("GOOGLE_OAUTH_TOKEN_URL", standin.token_url)
        monkeypatch.setenv("GOOGLE_CLIENT_ID", "slotoptim-test.apps.googleusercontent.com")
        monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "test-client-secret")
        standin.grant("1//refresh-dr-a")
        yield standin


@pytest.fixture
def caldav_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_test_key(monkeypatch)
    with radicale(tmp_path) as url:
        yield url


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphStandin]:
    use_test_key(monkeypatch)
    with running_graph() as standin:
        monkeypatch.setenv("MICROSOFT_GRAPH_API_URL", standin.graph_url)
        monkeypatch.setenv("MICROSOFT_LOGIN_URL", standin.url)
        monkeypatch.setenv("MICROSOFT_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
        monkeypatch.setenv("MICROSOFT_CLIENT_SECRET", "test-client-secret")
        standin.grant("M.R3_dr-a")
        yield standin
