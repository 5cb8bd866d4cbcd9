"""GSM-7 detection and SMS segment counting."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotoptim.listener.channels.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    gsm7_septets,
    is_gsm7,
    non_gsm7_chars,
    sms_segments,
)


def test_the_alphabets_have_their_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points less ESC
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "gsm7"),
    [
        ("Dr Lee has a 3:40pm slot today. Reply YES to book, STOP to opt out.", True),
        ("Ärztin Müller: Termin frei? ¿Qué? £5 @ 9h, 50% €", True),
        ("¿Sí?", False),  # í is not in GSM-7 (ì is)
        ("Braces [ok] {fine} ~tilde~ |pipe| ^caret^ \\slash", True),
        ("I’m free at 3pm", False),  # curly apostrophe
        ("See you “soon”", False),
        ("Slot open 😀", False),
        ("ç lower c-cedilla is not in the basic set", False),
        ("Привет", False),
        ("", True),
    ],
)
def test_is_gsm7(text: str, gsm7: bool) -> None:
    assert is_gsm7(text) is gsm7


def test_non_gsm7_chars_names_each_culprit_once() -> None:
    assert non_gsm7_chars("I’m “sure” it’s fine 😀") == "’“”😀"
    assert non_gsm7_chars("plain") == ""


def test_extension_characters_cost_two_septets() -> None:
    assert gsm7_septets("a€[") == 5


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),
        # An ESC pair is never split: 152 + (2) does not fit in 153, so the euro opens part two,
        # which then overflows into a third although 306 septets would fit two parts "on paper".
        ("a" * 152 + "€" + "a" * 152, 3),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("😀" * 36, 2),
        # A surrogate pair is never split either.
        ("ж" * 66 + "😀" + "ж" * 66, 3),
        ("a" * 159 + "’", 3),  # one curly quote turns 160 characters into UCS-2
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


GSM_PLAIN = st.text(alphabet=sorted(GSM7_BASIC), max_size=800)


@settings(deadline=None)  # no wall-clock limits: the suite runs on loaded machines
@given(GSM_PLAIN)
def test_plain_gsm7_segments_match_the_textbook_formula(text: str) -> None:
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert sms_segments(text) == expected


@settings(deadline=None)
@given(st.text(max_size=400))
def test_segments_never_undercount_the_payload(text: str) -> None:
    if is_gsm7(text):
        units, single, part = gsm7_septets(text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    n = sms_segments(text)
    assert n >= 1
    if units > single:
        assert n >= math.ceil(units / part)
        assert n * part >= units
