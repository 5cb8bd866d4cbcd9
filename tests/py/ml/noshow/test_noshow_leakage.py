"""Features may only use what was known when the booking was made.

For a cut-off day D, everything with appointment day >= D is "the future" for bookings made before D.
Deleting the future, or rewriting its outcomes, must leave the features of those bookings unchanged.
A booking made before D whose own appointment is on/after D has its own label rewritten too, so the
same check also catches a feature that reads the row's own outcome.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotoptim.ml.cli import NOSHOW_CSV, shared_data_file
from slotoptim.ml.noshow.encoding import NeighbourhoodEncoding, fit_neighbourhood_encoding
from slotoptim.ml.noshow.features import FEATURE_NAMES, feature_matrix
from slotoptim.ml.noshow.kaggle import read_noshow_csv
from slotoptim.ml.noshow.synthetic import synthetic_appointments
from slotoptim.ml.noshow.table import AppointmentTable, sample_patients


def features(table: AppointmentTable, encoding: NeighbourhoodEncoding) -> npt.NDArray[np.float64]:
    return feature_matrix(table, table, encoding)


def assert_future_blind(table: AppointmentTable, cutoff: np.datetime64, seed: int) -> int:
    """Checks rows booked before `cutoff`; returns how many were checked."""
    # The encoding is fitted on data before the cut-off, as in training; it is held fixed here.
    encoding = fit_neighbourhood_encoding(table.select(table.appointment_day < cutoff))
    baseline = features(table, encoding)
    booked_before = table.scheduled_day < cutoff
    future = table.appointment_day >= cutoff

    rng = np.random.default_rng(seed)
    relabelled = table.no_show.copy()
    relabelled[future] = rng.random(int(future.sum())) < 0.5
    after_relabel = features(table.with_labels(relabelled), encoding)
    np.testing.assert_array_equal(after_relabel[booked_before], baseline[booked_before])

    flipped = table.no_show.copy()
    flipped[future] = ~flipped[future]
    after_flip = features(table.with_labels(flipped), encoding)
    np.testing.assert_array_equal(after_flip[booked_before], baseline[booked_before])

    kept = ~future
    after_delete = features(table.select(kept), encoding)
    np.testing.assert_array_equal(after_delete[booked_before[kept]], baseline[kept & booked_before])
    return int(booked_before.sum())


def test_a_visit_between_booking_and_appointment_is_not_history() -> None:
    table = synthetic_appointments(3, patients=1, seed=1)
    day = np.datetime64("2016-05-10", "D")
    table = AppointmentTable(
        patient_id=np.array(["P", "P", "P"]),
        appointment_id=np.array([1, 2, 3]),
        # Visit 1 on May 3 (booked Apr 20), visit 2 on May 8 (booked May 1), visit 3 on May 10 booked May 5.
        scheduled_at=np.array(["2016-04-20T09:00", "2016-05-01T09:00", "2016-05-05T09:00"], dtype="datetime64[s]"),
        appointment_day=np.array([day - 7, day - 2, day]),
        age=table.age,
        gender=table.gender,
        neighbourhood=table.neighbourhood,
        scholarship=table.scholarship,
        hypertension=table.hypertension,
        diabetes=table.diabetes,
        alcoholism=table.alcoholism,
        handicap=table.handicap,
        sms_received=table.sms_received,
        no_show=np.array([True, True, False]),
    )
    matrix = features(table, fit_neighbourhood_encoding(table))
    column = {name: matrix[:, i] for i, name in enumerate(FEATURE_NAMES)}
    # On May 5 only the May 3 visit had happened; May 8 was still ahead.
    assert column["prior_visits"].tolist() == [0, 0, 1]
    assert column["prior_no_shows"].tolist() == [0, 0, 1]
    assert column["days_since_last_visit"][2] == 2
    assert column["last_visit_no_show"][2] == 1
    assert column["new_patient"].tolist() == [1, 1, 0]


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(min_value=5, max_value=150),
    patients=st.integers(min_value=1, max_value=20),
    seed=st.integers(min_value=0, max_value=10_000),
    cutoff_offset=st.integers(min_value=1, max_value=25),
)
def test_features_ignore_the_future_on_synthetic_tables(
    rows: int, patients: int, seed: int, cutoff_offset: int
) -> None:
    table = synthetic_appointments(rows, patients=patients, days=25, seed=seed)
    cutoff = np.datetime64("2016-04-01", "D") + cutoff_offset
    if not np.any(table.appointment_day < cutoff):
        return
    assert_future_blind(table, cutoff, seed)


@pytest.mark.parametrize("cutoff", ["2016-05-09", "2016-05-16", "2016-05-25"])
def test_features_ignore_the_future_on_the_kaggle_file(cutoff: str) -> None:
    path = shared_data_file(NOSHOW_CSV)
    if path is None:
        pytest.skip("shared data folder not found: set SLOTOPTIM_SHARED_DATA to the folder holding noshow/")
    table, _ = read_noshow_csv(path)
    # A quarter of the patients with all their appointments (~22k rows): histories stay whole.
    sample = sample_patients(table, 0.25, seed=5)
    checked = assert_future_blind(sample, np.datetime64(cutoff, "D"), seed=11)
    assert checked > 5_000
