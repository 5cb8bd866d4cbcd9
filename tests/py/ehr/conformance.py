"""Every resource the FHIR API emits is checked against the R4B models of fhir.resources (FHIR
4.3; the R4 resources we emit are unchanged in R4B) and, for appointments, against the IHE ITI
Scheduling Appointment profile's required elements."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

IHE_PROFILE = "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Validates a resource (and each resource of a Bundle); returns it for chaining."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        valid(entry["resource"])
    if resource["resourceType"] == "Appointment":
        ihe_appointment(resource)
    return resource


def ihe_appointment(resource: dict[str, Any]) -> None:
    # ihe-sched-appt: status, start, end, at least one participant with an actor, and the profile.
    assert resource["status"]
    assert resource["start"] and resource["end"]
    assert resource["participant"] and all(p["actor"]["reference"] for p in resource["participant"])
    assert IHE_PROFILE in resource["meta"]["profile"]
