"""SMART scopes of OIDC tokens on the FHIR API: a token gets only the FHIR access its `scope`
claim names (v1 `system/Slot.read` or v2 `system/Slot.rs`); without one, its role's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.test_auth_oidc import Jwks, _settings, jwks  # noqa: F401
from ehr.conformance import valid
from litestar.testing import TestClient

from slotoptim.api.fhir.scopes import allows

FHIR = "/fhir/R4"
FIND = {"resourceType": "Parameters", "parameter": [{"name": "visit-type", "valueString": "short"}]}


def test_a_token_reaches_only_what_its_scopes_name(
    make_client: Callable[..., TestClient[Any]],
    jwks: Jwks,  # noqa: F811
) -> None:
    client = make_client(oidc=_settings(jwks))
    slots_only = {"Authorization": f"Bearer {jwks.token('rsa-1', scope='system/Slot.read system/Schedule.rs')}"}
    assert client.get(f"{FHIR}/Slot?service-type=short", headers=slots_only).status_code == 200
    assert client.get(f"{FHIR}/Schedule", headers=slots_only).status_code == 200
    refused = client.get(f"{FHIR}/Practitioner", headers=slots_only)
    assert refused.status_code == 403 and valid(refused.json())["issue"][0]["code"] == "forbidden"
    assert client.post(f"{FHIR}/Appointment/$find", json=FIND, headers=slots_only).status_code == 403

    # A staff token without a scope claim gets its role's: reads, and Appointment writes.
    staff = {"Authorization": f"Bearer {jwks.token('rsa-1')}"}
    assert client.get(f"{FHIR}/Practitioner", headers=staff).status_code == 200
    found = client.post(f"{FHIR}/Appointment/$find", json=FIND, headers=staff)
    potential = found.json()["entry"][0]["resource"]["id"]
    hold = {
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{potential}"}}],
    }
    assert client.post(f"{FHIR}/Appointment/$hold", json=hold, headers=staff).status_code == 200
    # A read-only scope cannot hold, whatever the role.
    read_only = {"Authorization": f"Bearer {jwks.token('rsa-1', scope='system/*.read')}"}
    assert client.post(f"{FHIR}/Appointment/$hold", json=hold, headers=read_only).status_code == 403


def test_scope_grammar() -> None:
    assert allows(frozenset({"system/Appointment.write"}), "Appointment", "write")
    assert allows(frozenset({"system/Appointment.cu"}), "Appointment", "write")
    assert allows(frozenset({"user/*.rs"}), "Slot", "read")
    assert not allows(frozenset({"system/Appointment.rs"}), "Appointment", "write")
    assert not allows(frozenset({"system/Slot.read"}), "Appointment", "read")
    assert not allows(frozenset({"patient/Slot.read", "system/Slot"}), "Slot", "read")
    assert allows(frozenset({"system/*.*"}), "Schedule", "read")
