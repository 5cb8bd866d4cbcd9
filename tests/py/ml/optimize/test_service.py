from __future__ import annotations

import pytest

from slotoptim.ml.optimize.service import (
    DiscreteService,
    ExponentialService,
    ServiceSpecError,
    lattice_unit,
    parse_service,
)


def test_parses_the_three_forms() -> None:
    assert parse_service("deterministic:5") == DiscreteService((5.0,), (1.0,))
    assert parse_service("exponential:7.5") == ExponentialService(7.5)
    pmf = parse_service("pmf:3=0.2,5=0.3,8=0.5")
    assert isinstance(pmf, DiscreteService)
    assert pmf.minutes == (3.0, 5.0, 8.0)
    assert pmf.mean_minutes == pytest.approx(0.6 + 1.5 + 4.0)


def test_describe_round_trips() -> None:
    for text in ("deterministic:5", "exponential:7.5", "pmf:3=0.2,5=0.3,8=0.5"):
        assert parse_service(text).describe() == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pmf:3=0.2,5=0.3,8=0.4", "sum to 1"),
        ("pmf:3=0.2,3=0.8", "once"),
        ("pmf:3=1.2,5=-0.2", "[0, 1]"),
        ("pmf:0=1", "positive"),
        ("pmf:3", "minutes=probability"),
        ("exponential:-1", "positive"),
        ("deterministic:abc", "number"),
        ("gamma:3", "unknown"),
        ("exponential", "expected"),
    ],
)
def test_rejects_what_is_not_a_distribution(text: str, fragment: str) -> None:
    with pytest.raises(ServiceSpecError, match=None) as raised:
        parse_service(text)
    assert fragment in str(raised.value)


def test_lattice_unit_is_the_largest_common_step() -> None:
    assert lattice_unit((3.0, 5.0, 8.0, 5.0)) == 1.0
    assert lattice_unit((10.0, 20.0, 15.0)) == 5.0
    assert lattice_unit((2.5, 5.0)) == 2.5
    assert lattice_unit((0.1, 0.25)) == pytest.approx(0.05)
