"""Who is calling: an organisation, a role, and the actor the audit trail records.

Roles are ordered: readonly can read; staff can also write appointments, waitlist entries and
offers; admin can also change providers, services, hours, settings and API keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Role = Literal["readonly", "staff", "admin"]
ROLES: tuple[Role, ...] = ("readonly", "staff", "admin")
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

# "system" is a server-side process acting on a verified webhook, not a signed-in caller.
ActorKind = Literal["api_key", "user", "system"]


def at_least(role: str, needed: Role) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: set on the request by the authentication middleware."""

    org_id: int
    org_key: str
    role: Role
    kind: ActorKind
    subject: str  # the API key id, or the token's "sub"
    # SMART scopes the token granted (its "scope" claim); None: derived from the role (API keys).
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    address: str | None

    def as_json(self) -> str:
        return json.dumps({"kind": self.kind, "id": self.id, "address": self.address})


@dataclass(frozen=True)
class DbContext:
    """What a transaction is told before it runs: the organisation and the actor."""

    org_id: int
    actor: Actor


def context_of(identity: Identity, address: str | None) -> DbContext:
    return DbContext(identity.org_id, Actor(identity.kind, identity.subject, address))
