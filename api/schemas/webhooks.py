"""Twilio's webhook forms (application/x-www-form-urlencoded). Twilio sends many more fields and
adds new ones without notice: they are accepted, and all of them count in the signature."""

from __future__ import annotations

from typing import Annotated

import msgspec

Sid = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{1,64}$", description="Twilio's message SID")]
Address = Annotated[str, msgspec.Meta(max_length=64, description="E.164 number, or whatsapp:+E.164")]


class TwilioInbound(
    msgspec.Struct, kw_only=True, rename={"message_sid": "MessageSid", "from_": "From", "to": "To", "body": "Body"}
):
    message_sid: Sid
    from_: Address
    to: Address = ""
    body: Annotated[str, msgspec.Meta(max_length=1600)] = ""


class TwilioStatus(
    msgspec.Struct, kw_only=True, rename={"message_sid": "MessageSid", "message_status": "MessageStatus"}
):
    message_sid: Sid
    message_status: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,32}$")]
