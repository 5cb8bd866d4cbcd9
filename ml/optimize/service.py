"""Service-time distributions of the session model and their compact text form.

The text form is what the CLI accepts: ``deterministic:5``, ``exponential:5`` (mean in minutes) or
``pmf:3=0.2,5=0.3,8=0.5`` (minutes=probability pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

# Probabilities typed by hand ("0.2,0.3,0.5") never sum to exactly 1.0 in binary floating point.
PROBABILITY_SUM_TOLERANCE = 1e-9


class ServiceSpecError(ValueError):
    """The service-time text or values do not describe a distribution."""


@dataclass(frozen=True)
class ExponentialService:
    """Exponential service times; evaluated exactly in continuous time (see session_chains)."""

    mean_minutes: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean_minutes) and self.mean_minutes > 0):
            raise ServiceSpecError(f"exponential mean must be a positive number of minutes, got {self.mean_minutes}")

    def describe(self) -> str:
        return f"exponential:{_number(self.mean_minutes)}"


@dataclass(frozen=True)
class DiscreteService:
    """Service times taking finitely many values (minutes); deterministic service is the one-point case."""

    minutes: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.minutes or len(self.minutes) != len(self.probabilities):
            raise ServiceSpecError("a pmf needs as many probabilities as values, and at least one of each")
        if len(set(self.minutes)) != len(self.minutes):
            raise ServiceSpecError("a pmf lists each service time once")
        for value in self.minutes:
            if not (math.isfinite(value) and value > 0):
                raise ServiceSpecError(f"service times must be positive minutes, got {value}")
        for probability in self.probabilities:
            if not (math.isfinite(probability) and 0 <= probability <= 1):
                raise ServiceSpecError(f"probabilities must lie in [0, 1], got {probability}")
        total = math.fsum(self.probabilities)
        if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
            raise ServiceSpecError(f"probabilities must sum to 1, they sum to {total:.12g}")

    @property
    def mean_minutes(self) -> float:
        return math.fsum(m * p for m, p in zip(self.minutes, self.probabilities, strict=True))

    def describe(self) -> str:
        if len(self.minutes) == 1:
            return f"deterministic:{_number(self.minutes[0])}"
        pairs = ",".join(f"{_number(m)}={_number(p)}" for m, p in zip(self.minutes, self.probabilities, strict=True))
        return f"pmf:{pairs}"


ServiceDistribution = ExponentialService | DiscreteService


def deterministic(minutes: float) -> DiscreteService:
    return DiscreteService((float(minutes),), (1.0,))


def parse_service(text: str) -> ServiceDistribution:
    """Parse ``deterministic:M``, ``exponential:M`` or ``pmf:V=P,V=P,...``."""
    kind, separator, body = text.strip().partition(":")
    kind = kind.strip().lower()
    if not separator or not body.strip():
        raise ServiceSpecError(f"expected deterministic:M, exponential:M or pmf:V=P,..., got {text!r}")
    if kind == "deterministic":
        return deterministic(_parse_float(body, "deterministic service time"))
    if kind == "exponential":
        return ExponentialService(_parse_float(body, "exponential mean"))
    if kind == "pmf":
        values: list[float] = []
        probabilities: list[float] = []
        for pair in body.split(","):
            value_text, equals, probability_text = pair.partition("=")
            if not equals:
                raise ServiceSpecError(f"pmf entries are minutes=probability, got {pair.strip()!r}")
            values.append(_parse_float(value_text, "pmf service time"))
            probabilities.append(_parse_float(probability_text, "pmf probability"))
        return DiscreteService(tuple(values), tuple(probabilities))
    raise ServiceSpecError(f"unknown service distribution {kind!r}; use deterministic, exponential or pmf")


def lattice_unit(values: tuple[float, ...], *, max_denominator: int = 1000) -> float:
    """Largest time unit (minutes) of which every value is an integer multiple.

    Values are read as decimals (2.5 -> 5/2), so ``pmf:2.5=...`` with 5-minute intervals gets a
    2.5-minute unit and the Markov chain stays exact without a needlessly fine grid.
    """
    fractions = [Fraction(str(v)).limit_denominator(max_denominator) for v in values]
    for value, fraction in zip(values, fractions, strict=True):
        if not math.isclose(float(fraction), value, rel_tol=1e-12, abs_tol=1e-12):
            raise ServiceSpecError(f"{value} is not a multiple of 1/{max_denominator} minute")
    denominator = math.lcm(*(f.denominator for f in fractions))
    numerators = [int(f * denominator) for f in fractions]
    return math.gcd(*numerators) / denominator


def _parse_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ServiceSpecError(f"{what} must be a number, got {text.strip()!r}") from None
    if not math.isfinite(value):
        raise ServiceSpecError(f"{what} must be finite, got {text.strip()!r}")
    return value


def _number(value: float) -> str:
    return f"{value:g}"
