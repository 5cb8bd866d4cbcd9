"""How many SMS segments a text costs.

An SMS carries 140 bytes: 160 characters of the GSM 03.38 7-bit alphabet, or 70 UTF-16 code units
(UCS-2) as soon as one character falls outside it. A long text is split into parts that each give
up a 6-byte header: 153 GSM-7 septets or 67 UTF-16 units per part. The extension table characters
(``^{}\\[~]|€`` and form feed) are sent as ESC + character and cost two septets, and a split never
separates that pair, nor the two halves of a UTF-16 surrogate pair (an emoji), so a part can hold
one unit less than the nominal size.

The healthcare exemption and the per-message price both assume one segment: an offer should be
GSM-7 and at most 160 septets. A curly quote or an emoji silently turns a 150-character text
into three UCS-2 segments; ``non_gsm7_chars`` names the culprits.
"""

from __future__ import annotations

# GSM 03.38 basic character set (3GPP TS 23.038 6.2.1), without ESC (0x1B), which only introduces
# an extension character and is not text.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Basic-set extension table (6.2.1.1): each is sent as ESC + character.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_GSM7 = 160
PART_GSM7 = 153
SINGLE_UCS2 = 70
PART_UCS2 = 67


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def non_gsm7_chars(text: str) -> str:
    """The distinct characters that force UCS-2, in order of first appearance."""
    return "".join(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))


def gsm7_septets(text: str) -> int:
    """Length in septets, extension characters counting two. Only meaningful when is_gsm7(text)."""
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def _units(text: str, gsm7: bool) -> list[int]:
    """The size of each indivisible piece: septets for GSM-7, UTF-16 code units for UCS-2."""
    if gsm7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_segments(text: str) -> int:
    """Segments needed to send ``text``. An empty text still goes out as one (empty) segment."""
    gsm7 = is_gsm7(text)
    units = _units(text, gsm7)
    single, part = (SINGLE_GSM7, PART_GSM7) if gsm7 else (SINGLE_UCS2, PART_UCS2)
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments
