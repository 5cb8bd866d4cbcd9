"""EHR fixtures: the API fixtures' two practices (acme and bravo) and clients, and one Medplum
FHIR server per test session (reset by the tests that need it empty)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api.conftest import api_db, client, db, keys, make_client  # noqa: F401
from ehr.medplum import Medplum, node_available, start_medplum


@pytest.fixture(scope="session")
def medplum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medplum]:
    if not node_available():
        pytest.fail("the Medplum test server is not installed: run `make fhir-server` (needs node and npm)")
    yield from start_medplum(Path(tmp_path_factory.mktemp("medplum")))
