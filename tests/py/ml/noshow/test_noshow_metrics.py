from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from slotoptim.ml.noshow.calibration import calibration_from_json, fit_isotonic, fit_platt
from slotoptim.ml.noshow.metrics import average_precision, brier_score, calibration_table, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_scikit_learn_including_tied_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(2_000) < 0.2
    # Rounded scores create many ties, the case where hand-rolled AUCs usually go wrong.
    scores = np.asarray(np.round(np.clip(0.2 + 0.3 * labels + rng.normal(0, 0.25, 2_000), 0, 1), 2), dtype=np.float64)
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert brier_score(labels, scores) == pytest.approx(brier_score_loss(labels, scores), abs=1e-12)


def test_calibration_table_has_equal_count_bins_that_cover_every_row() -> None:
    rng = np.random.default_rng(3)
    probabilities = rng.random(1_005)
    labels = rng.random(1_005) < probabilities
    table = calibration_table(labels, probabilities)
    assert len(table) == 10 and sum(b.count for b in table) == 1_005
    assert [b.mean_predicted for b in table] == sorted(b.mean_predicted for b in table)
    # The data are calibrated by construction, so each bin's observed rate is near its prediction.
    assert all(abs(b.observed_rate - b.mean_predicted) < 0.15 for b in table)


def test_isotonic_matches_scikit_learn_on_the_fitted_points() -> None:
    rng = np.random.default_rng(4)
    scores = np.round(rng.random(3_000), 3)
    labels = rng.random(3_000) < scores**2
    ours = fit_isotonic(scores, labels)
    theirs = IsotonicRegression(out_of_bounds="clip").fit(scores, labels.astype(float))
    np.testing.assert_allclose(ours.apply(scores), theirs.predict(scores), atol=1e-9)
    assert np.all(np.diff(ours.apply(np.linspace(0, 1, 101))) >= 0)


def test_platt_recovers_a_known_distortion_and_round_trips_through_json() -> None:
    rng = np.random.default_rng(5)
    true_probability = rng.uniform(0.02, 0.9, 50_000)
    labels = rng.random(50_000) < true_probability
    # An overconfident model: logit doubled and shifted.
    logit = np.log(true_probability / (1 - true_probability))
    overconfident = 1 / (1 + np.exp(-(2 * logit + 0.5)))
    platt = fit_platt(overconfident, labels)
    assert platt.slope == pytest.approx(0.5, abs=0.03)
    assert platt.intercept == pytest.approx(-0.25, abs=0.05)
    restored = calibration_from_json(platt.to_json())
    np.testing.assert_allclose(restored.apply(overconfident), platt.apply(overconfident))
    assert brier_score(labels, platt.apply(overconfident)) < brier_score(labels, overconfident)
