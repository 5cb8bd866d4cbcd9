"""SMART on FHIR scopes: `system/Slot.read`, `system/Appointment.write`, `system/*.read`... (SMART v1),
and the v2 letters (`system/Slot.rs`, `system/Appointment.cu`). `user/` scopes count the same: the
caller's role and organisation still bound what they reach.

API keys carry no scopes: they get the scopes of their role (readonly reads, staff also books,
admin everything). An OIDC token with a `scope` claim gets only the FHIR scopes it names; one
without gets its role's."""

from __future__ import annotations

import re
from typing import Literal

from slotoptim.api.fhir.outcome import FhirError
from slotoptim.api.identity import Identity

Access = Literal["read", "write"]

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "readonly": frozenset({"system/*.read"}),
    "staff": frozenset({"system/*.read", "system/Appointment.write"}),
    "admin": frozenset({"system/*.read", "system/*.write"}),
}

_SCOPE = re.compile(r"^(system|user)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|[cruds]+)$")
_V2_LETTERS = {"read": set("rs"), "write": set("cud")}


def granted(identity: Identity) -> frozenset[str]:
    if identity.scopes is not None:
        return identity.scopes
    return ROLE_SCOPES.get(identity.role, frozenset())


def allows(scopes: frozenset[str], resource: str, access: Access) -> bool:
    for scope in scopes:
        match = _SCOPE.match(scope)
        if match is None:
            continue
        _, target, permission = match.groups()
        if target not in ("*", resource):
            continue
        if permission in ("*", access):
            return True
        if permission not in ("read", "write") and _V2_LETTERS[access] & set(permission):
            return True
    return False


def require(identity: Identity, resource: str, access: Access) -> None:
    if not allows(granted(identity), resource, access):
        raise FhirError(403, "forbidden", f"this needs the scope system/{resource}.{access} (or system/*.{access})")
