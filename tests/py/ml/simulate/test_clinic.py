from __future__ import annotations

import numpy as np
import pytest

from slotoptim.ml.simulate.clinic import simulate_day
from slotoptim.ml.simulate.clinic_model import (
    Appointment,
    ProviderDay,
    Punctuality,
    SimulationInputError,
    SimulationSettings,
)
from slotoptim.ml.simulate.durations import DurationSampler, DurationShape
from slotoptim.ml.simulate.random_streams import DayStreams

ON_TIME = Punctuality(mean=0.0, sd=0.0)
# Any shape will do when the spread multiplier is 0: every visit then lasts exactly its mean.
SHAPE = DurationShape.from_minutes(np.array([5.0, 10.0, 15.0, 30.0]))


def fixed_sampler(**means: float) -> DurationSampler:
    return DurationSampler(SHAPE, {name: (mean, 1.0) for name, mean in means.items()}, cv_multiplier=0.0)


def day(*appointments: Appointment, working: tuple[tuple[float, float], ...] = ((480.0, 540.0),)) -> ProviderDay:
    return ProviderDay("dr", "mon", appointments, working)


def run(provider_day: ProviderDay, sampler: DurationSampler, settings: SimulationSettings, seed: int = 1):  # type: ignore[no-untyped-def]
    return simulate_day(provider_day, sampler, settings, DayStreams(seed, 0, "dr", "mon"))


def test_back_to_back_overruns_queue_up_as_computed_by_hand() -> None:
    # 15-minute visits booked every 10 minutes: each waits 5 minutes longer than the one before.
    booked = day(*(Appointment(480.0 + 10 * i, "x", 0.0) for i in range(4)))
    outcome = run(booked, fixed_sampler(x=15.0), SimulationSettings(punctuality=ON_TIME))
    assert outcome.waits == pytest.approx((0.0, 5.0, 10.0, 15.0))
    assert outcome.attended_minutes == pytest.approx(60.0)
    assert outcome.overtime_minutes == pytest.approx(0.0)  # last ends 480 + 60 = 540, closing time
    late = run(
        day(*booked.appointments, working=((480.0, 530.0),)),
        fixed_sampler(x=15.0),
        SimulationSettings(punctuality=ON_TIME),
    )
    assert late.overtime_minutes == pytest.approx(10.0)


def test_no_shows_and_cancellations_leave_the_provider_idle() -> None:
    booked = day(*(Appointment(480.0 + 15 * i, "x", 0.3) for i in range(4)))
    nobody = run(booked, fixed_sampler(x=15.0), SimulationSettings(punctuality=ON_TIME, no_show_rate=0.999999))
    assert (nobody.waits, nobody.no_shows, nobody.attended_minutes) == ((), 4, 0.0)
    cancelled = run(booked, fixed_sampler(x=15.0), SimulationSettings(punctuality=ON_TIME, cancellation_rate=0.999999))
    assert (cancelled.cancellations, cancelled.no_shows) == (4, 0)


def test_empty_slots_are_not_booked() -> None:
    booked = day(Appointment(480.0, "x", 0.0, booking_probability=0.0), Appointment(500.0, "x", 0.0))
    outcome = run(booked, fixed_sampler(x=10.0), SimulationSettings(punctuality=ON_TIME))
    assert outcome.empty_slots == 1
    assert len(outcome.waits) == 1


def test_waiting_counts_from_the_appointment_time_or_a_late_arrival() -> None:
    # Everyone 20 minutes late: 8:00 and 8:05 patients arrive 8:20 and 8:25 and are seen 8:20-8:35,
    # 8:35-8:50. Waiting counts from arrival when late: 0 and 10 minutes.
    late = Punctuality(mean=20.0, sd=0.0, earliest=-30.0, latest=30.0)
    booked = day(Appointment(480.0, "x", 0.0), Appointment(485.0, "x", 0.0))
    outcome = run(booked, fixed_sampler(x=15.0), SimulationSettings(punctuality=late))
    assert outcome.waits == pytest.approx((0.0, 10.0))
    assert outcome.overtime_minutes == pytest.approx(0.0)  # ends 8:50, closing 9:00


def test_early_patients_wait_for_their_time_unless_seen_early() -> None:
    early = Punctuality(mean=-10.0, sd=0.0, earliest=-30.0, latest=30.0)
    booked = day(Appointment(500.0, "x", 0.0))
    strict = run(booked, fixed_sampler(x=10.0), SimulationSettings(punctuality=early))
    relaxed = run(booked, fixed_sampler(x=10.0), SimulationSettings(punctuality=early, see_early=True))
    assert strict.waits == (0.0,) and relaxed.waits == (0.0,)
    # Seen at 8:10 instead of 8:20, so the day's work ends 10 minutes earlier.
    closing = day(Appointment(530.0, "x", 0.0), working=((480.0, 540.0),))
    assert run(closing, fixed_sampler(x=15.0), SimulationSettings(punctuality=early)).overtime_minutes == 5.0
    assert (
        run(closing, fixed_sampler(x=15.0), SimulationSettings(punctuality=early, see_early=True)).overtime_minutes
        == 0.0
    )


def test_walk_ins_are_seen_after_scheduled_patients_present() -> None:
    booked = day(*(Appointment(480.0 + 10 * i, "x", 0.0) for i in range(6)))
    settings = SimulationSettings(punctuality=ON_TIME, walk_ins_per_hour=6.0)
    outcome = run(booked, fixed_sampler(x=10.0), settings, seed=4)
    assert outcome.walk_in_waits, "a rate of 6 an hour should bring someone in an hour"
    # Scheduled patients back to back at their own pace never wait: walk-ins go after them.
    assert outcome.waits == pytest.approx((0.0,) * 6)
    assert min(outcome.walk_in_waits) >= 0.0


def test_same_seed_same_day_other_seed_other_day() -> None:
    booked = day(*(Appointment(480.0 + 12 * i, "x", 0.2) for i in range(5)), working=((480.0, 560.0),))
    sampler = DurationSampler(SHAPE, {"x": (12.0, 6.0)})
    settings = SimulationSettings()
    assert run(booked, sampler, settings, seed=7) == run(booked, sampler, settings, seed=7)
    outcomes = {run(booked, sampler, settings, seed=s).attended_minutes for s in range(5)}
    assert len(outcomes) > 1


def test_settings_are_validated_with_the_option_name() -> None:
    with pytest.raises(SimulationInputError) as raised:
        SimulationSettings(no_show_rate=1.5)
    assert raised.value.option == "--no-show"
    with pytest.raises(SimulationInputError) as raised:
        Punctuality(mean=40.0, sd=5.0)
    assert raised.value.option == "--punctuality"
