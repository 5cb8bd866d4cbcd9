from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotoptim.ml.buffers.estimator import BufferSettings, DurationRecord, buffer_minutes, estimate_buffers

Z80 = 0.8416212335729143  # standard normal 80th percentile


def records(service: str, provider: str, overruns: np.ndarray, scheduled: float = 30.0) -> list[DurationRecord]:
    return [DurationRecord(service, provider, scheduled, scheduled + float(o)) for o in overruns]


def test_recovers_known_quantiles_per_service() -> None:
    rng = np.random.default_rng(0)
    data = records("cleaning", "a", rng.normal(5.0, 3.0, 20_000)) + records(
        "implant", "a", rng.exponential(10.0, 20_000)
    )
    estimate = estimate_buffers(data)
    cleaning, implant = estimate.services["cleaning"], estimate.services["implant"]
    assert cleaning.overrun_quantile == pytest.approx(5.0 + 3.0 * Z80, abs=0.15)
    assert implant.overrun_quantile == pytest.approx(-10.0 * np.log(0.2), abs=0.4)  # 16.09
    # Rounded up to whole minutes.
    assert cleaning.buffer_minutes == 8 and implant.buffer_minutes == 17


def test_other_quantiles_the_cap_and_no_negative_buffers() -> None:
    rng = np.random.default_rng(1)
    overrun = rng.normal(20.0, 5.0, 10_000)
    p95 = estimate_buffers(records("s", "a", overrun), BufferSettings(quantile=0.95)).services["s"]
    assert p95.overrun_quantile == pytest.approx(20.0 + 5.0 * 1.6449, abs=0.3)
    capped = estimate_buffers(records("s", "a", overrun), BufferSettings(max_buffer_minutes=15))
    assert capped.buffer_for("s") == 15
    early = estimate_buffers(records("s", "a", rng.normal(-10.0, 1.0, 1_000)))
    assert early.buffer_for("s") == 0


def provider_mix(own_rows: int, seed: int) -> list[DurationRecord]:
    """Ten providers with overrun p80 spread around 10 minutes, plus 'slow' with a p80 of 25."""
    rng = np.random.default_rng(seed)
    data: list[DurationRecord] = []
    for index in range(10):
        data += records("s", f"p{index}", rng.normal(10.0 - 3.0 * Z80 + (index - 4.5), 3.0, 400))
    data += records("s", "slow", rng.normal(25.0 - 3.0 * Z80, 3.0, own_rows))
    return data


def test_a_provider_with_few_rows_stays_near_the_service() -> None:
    estimate = estimate_buffers(provider_mix(own_rows=3, seed=2))
    slow = estimate.providers[("s", "slow")]
    service = estimate.services["s"].overrun_quantile
    assert slow.weight < 0.5
    assert abs(slow.shrunk_quantile - service) < abs(slow.shrunk_quantile - slow.own_quantile)


def test_a_provider_with_many_rows_keeps_its_own_value() -> None:
    estimate = estimate_buffers(provider_mix(own_rows=2_000, seed=3))
    slow = estimate.providers[("s", "slow")]
    assert slow.weight > 0.95
    assert slow.shrunk_quantile == pytest.approx(25.0, abs=0.6)
    assert estimate.buffer_for("s", "slow") == int(np.ceil(slow.shrunk_quantile))
    # An unknown provider gets the service's buffer.
    assert estimate.buffer_for("s", "new-hire") == estimate.services["s"].buffer_minutes


def test_weights_follow_the_documented_credibility_formula() -> None:
    rng = np.random.default_rng(4)
    data = records("s", "a", rng.normal(0, 1, 10)) + records("s", "b", rng.normal(5, 1, 90))
    estimate = estimate_buffers(data, BufferSettings(credibility_rows=30.0))
    assert estimate.providers[("s", "a")].weight == pytest.approx(10 / 40)
    assert estimate.providers[("s", "b")].weight == pytest.approx(90 / 120)
    a = estimate.providers[("s", "a")]
    expected = a.weight * a.own_quantile + (1 - a.weight) * estimate.services["s"].overrun_quantile
    assert a.shrunk_quantile == pytest.approx(expected)


def test_indistinguishable_providers_are_pooled() -> None:
    rng = np.random.default_rng(5)
    data: list[DurationRecord] = []
    for index in range(30):
        data += records("s", f"p{index}", rng.normal(4.0, 3.0, 50))
    estimate = estimate_buffers(data)
    weights = [p.weight for p in estimate.providers.values()]
    assert np.mean(weights) < 0.35


def test_single_provider_services_fall_back_to_the_fixed_constant() -> None:
    data = records("s", "only", np.arange(20.0))
    estimate = estimate_buffers(data, BufferSettings(fallback_credibility_rows=20.0))
    assert estimate.services["s"].credibility_rows == 20.0
    assert estimate.providers[("s", "only")].weight == pytest.approx(0.5)


@settings(max_examples=40, deadline=None)
@given(
    overruns=st.lists(st.floats(min_value=-120, max_value=240, allow_nan=False), min_size=1, max_size=60),
    cap=st.integers(min_value=0, max_value=120),
)
def test_buffers_are_whole_minutes_within_zero_and_the_cap(overruns: list[float], cap: int) -> None:
    half = len(overruns) // 2
    data = records("s", "a", np.array(overruns[:half])) + records("s", "b", np.array(overruns[half:]))
    estimate = estimate_buffers(data, BufferSettings(max_buffer_minutes=cap))
    for minutes in [estimate.buffer_for("s"), *(p.buffer_minutes for p in estimate.providers.values())]:
        assert isinstance(minutes, int) and 0 <= minutes <= cap
    # The service value pools both providers' rows.
    pooled = np.quantile([r.overrun_minutes for r in data], 0.8)
    assert estimate.buffer_for("s") == buffer_minutes(float(pooled), estimate.settings)


def test_rejects_bad_settings_and_empty_input() -> None:
    with pytest.raises(ValueError, match="quantile"):
        BufferSettings(quantile=1.0)
    with pytest.raises(ValueError, match="no duration records"):
        estimate_buffers([])


def test_rounding_is_up_to_whole_minutes_ignoring_float_noise() -> None:
    settings = BufferSettings(max_buffer_minutes=60)
    assert buffer_minutes(7.0 + 1e-12, settings) == 7
    assert buffer_minutes(7.01, settings) == 8
    assert buffer_minutes(-3.0, settings) == 0
    assert buffer_minutes(75.0, settings) == 60
