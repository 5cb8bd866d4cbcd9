"""Customers: who staff book and the waitlist offers to, with their consent per channel.

Phone numbers are E.164 (`+16175550101`); a channel's consent needs its address (SMS and
WhatsApp a phone, email an address). Contact details are personal data: reading them needs the
staff role.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from slotoptim.api.schemas.common import CustomerKey, Name, TimeZone

Phone = Annotated[
    str, Meta(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164 phone number", examples=["+16175550101"])
]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, examples=["nia@example.org"])]


class Consent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which channels the customer agreed to be contacted on (TCPA: an explicit yes per channel)."""

    sms: bool = False
    whatsapp: bool = False
    email: bool = False


class ConsentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sms: bool | UnsetType = UNSET
    whatsapp: bool | UnsetType = UNSET
    email: bool | UnsetType = UNSET


class Customer(msgspec.Struct, kw_only=True):
    id: int
    key: str
    name: str
    phone: str | None
    email: str | None
    timezone: str | None
    birth_date: dt.date | None
    consent: Consent
    # Set when the customer texted STOP (or similar): no channel is used while it is set.
    opted_out_at: dt.datetime | None
    created_at: dt.datetime


class CustomerCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: CustomerKey
    name: Name
    phone: Phone | None = None
    email: Email | None = None
    timezone: TimeZone | None = None
    birth_date: dt.date | None = None
    consent: Consent = msgspec.field(default_factory=Consent)


class CustomerPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; null clears an optional one."""

    name: Name | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    timezone: TimeZone | UnsetType | None = UNSET
    birth_date: dt.date | UnsetType | None = UNSET
    consent: ConsentPatch | UnsetType = UNSET


class CustomerPage(msgspec.Struct, kw_only=True):
    items: list[Customer]
    next_cursor: str | None
