"""The FHIR client against Medplum's FHIR router: SMART Backend Services tokens (RS384 and ES384),
Bundle paging, conditional create and versioned update."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from ehr.medplum import Medplum

from slotoptim.listener.ehr.fhirclient import FhirClient, PreconditionFailed
from slotoptim.listener.ehr.smart import BackendCredentials, EhrAuthError, TokenSource, generate_key


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def client_for(medplum: Medplum, http: httpx.Client, client_id: str = "slotoptim-rs384") -> FhirClient:
    return FhirClient(medplum.base_url, TokenSource(medplum.credentials(client_id), http), http)


@pytest.mark.parametrize("client_id", ["slotoptim-rs384", "slotoptim-es384"])
def test_backend_services_token_and_paging(medplum: Medplum, http: httpx.Client, client_id: str) -> None:
    medplum.reset()
    fhir = client_for(medplum, http, client_id)
    for i in range(7):
        fhir.create_if_none_exist(
            {
                "resourceType": "Practitioner",
                "identifier": [{"system": "urn:test", "value": f"p{i}"}],
                "name": [{"text": f"Dr {i}"}],
            },
            f"identifier=urn:test|p{i}",
        )
    pages = list(fhir.search_pages("Practitioner", {"_count": "3", "_sort": "_lastUpdated"}))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert len({r["id"] for page in pages for r in page}) == 7


def test_conditional_create_never_creates_twice_and_if_match_guards_updates(
    medplum: Medplum, http: httpx.Client
) -> None:
    medplum.reset()
    fhir = client_for(medplum, http)
    body = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:slotoptim:customer", "value": "42"}],
        "name": [{"text": "Ada"}],
    }
    first = fhir.create_if_none_exist(body, "identifier=urn:slotoptim:customer|42")
    again = fhir.create_if_none_exist(body, "identifier=urn:slotoptim:customer|42")
    assert first.created and not again.created and again.id == first.id
    current = fhir.read("Patient", first.id)
    assert current is not None
    updated = fhir.update({**current, "name": [{"text": "Ada L."}]}, first.version)
    assert updated.version != first.version
    with pytest.raises(PreconditionFailed):
        fhir.update({**current, "name": [{"text": "stale"}]}, first.version)


def test_unregistered_key_is_refused(medplum: Medplum, http: httpx.Client) -> None:
    rogue = BackendCredentials(medplum.token_url, "slotoptim-rs384", generate_key("RS384"))
    fhir = FhirClient(medplum.base_url, TokenSource(rogue, http), http)
    with pytest.raises(EhrAuthError, match="invalid_client"):
        list(fhir.search_pages("Practitioner", {}))
    unknown = BackendCredentials(medplum.token_url, "nobody", generate_key("ES384"))
    with pytest.raises(EhrAuthError, match="invalid_client"):
        TokenSource(unknown, http).token()
