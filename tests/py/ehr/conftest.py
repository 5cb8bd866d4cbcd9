"""FHIR server fixtures: the API fixtures' two practices (acme and bravo) and clients."""

from __future__ import annotations

from api.conftest import api_db, client, db, keys, make_client  # noqa: F401
