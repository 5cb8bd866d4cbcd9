"""Message templates: an organisation's wording of a message kind per language and channel."""

from __future__ import annotations

from typing import Annotated

import msgspec


class TemplateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, description="the text, with {placeholders}")]
    multipart: bool = msgspec.field(default=False)


class TemplateOut(msgspec.Struct, kw_only=True):
    kind: str
    language: str
    channel: str
    body: str
    custom: bool  # False: the built-in text
    segments: int  # SMS segments at its longest
    gsm7: bool
    multipart: bool
    sample: str
