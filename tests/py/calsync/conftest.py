"""Calendar-sync fixtures: the Google stand-in, pointed at by the environment variables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from calsync.google_standin import GoogleStandin, running
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
