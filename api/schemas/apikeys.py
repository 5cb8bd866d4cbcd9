"""API keys of the organisation (admin only). The secret appears once, in the creation answer."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from slotoptim.api.schemas.common import Name

KeyRole = Literal["readonly", "staff", "admin"]


class ApiKeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    role: KeyRole


class ApiKeyInfo(msgspec.Struct, kw_only=True):
    id: int
    name: str
    prefix: str
    role: KeyRole
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    key: ApiKeyInfo
    # `so_<prefix>_<secret>`: shown this once, stored only as a hash.
    secret: str
