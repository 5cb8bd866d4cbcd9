"""The CapabilityStatement at /fhir/R4/metadata, built from the same tables the routes use: the
search parameters of params.SEARCH_PARAMS, the interactions of INTERACTIONS and the operations of
OPERATIONS. A test walks it and calls each one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slotoptim.api.fhir.params import SEARCH_PARAMS

IHE = "https://profiles.ihe.net/ITI/Scheduling"

INTERACTIONS: dict[str, list[str]] = {
    "Practitioner": ["read", "search-type"],
    "HealthcareService": ["read", "search-type"],
    "Schedule": ["read", "search-type"],
    "Slot": ["read", "search-type"],
    "Appointment": ["read", "search-type"],
}

# name -> (resource type, canonical OperationDefinition, what it does)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "find": (
        "Appointment",
        f"{IHE}/OperationDefinition/appointment-find",
        "ITI-115: potential appointments (status proposed) ranked by SlotOptim's score in Bundle.entry.search.score",
    ),
    "hold": (
        "Appointment",
        f"{IHE}/OperationDefinition/appointment-hold",
        "ITI-116: holds a potential appointment (status pending) for the organisation's claim hold time",
    ),
    "book": (
        "Appointment",
        f"{IHE}/OperationDefinition/appointment-book",
        "ITI-117: books a potential or held appointment (status booked), or cancels a booked one",
    ),
}

SCOPES = [
    "system/*.read",
    "system/Practitioner.read",
    "system/HealthcareService.read",
    "system/Schedule.read",
    "system/Slot.read",
    "system/Appointment.read",
    "system/Appointment.write",
]


def capability_statement(base: str, software_version: str, published: dt.datetime) -> dict[str, Any]:
    resources = []
    for resource, interactions in INTERACTIONS.items():
        entry: dict[str, Any] = {
            "type": resource,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation} for p in SEARCH_PARAMS[resource]
            ],
        }
        operations = [
            {"name": name, "definition": definition, "documentation": doc}
            for name, (target, definition, doc) in OPERATIONS.items()
            if target == resource
        ]
        if operations:
            entry["operation"] = operations
        if resource == "Appointment":
            entry["supportedProfile"] = [f"{IHE}/StructureDefinition/ihe-sched-appt"]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kind": "instance",
        "software": {"name": "SlotOptim", "version": software_version},
        "implementation": {"description": "SlotOptim FHIR R4 scheduling server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "instantiates": [f"{IHE}/CapabilityStatement/IHE.Scheduling.server"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "Authorization: Bearer <SlotOptim API key or OIDC token>. SMART scopes: "
                    + ", ".join(SCOPES)
                    + " (API keys get their role's).",
                },
                "resource": resources,
            }
        ],
    }
