"""Brier score and ECE against their textbook formulas; bootstrap intervals: seeded and sensible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.benchmark.bootstrap import bootstrap_ci
from curvebench.benchmark.calibration import brier_score, expected_calibration_error
from curvebench.benchmark.metrics import COLUMNS, scores
from curvebench.run import LABELS

probability_rows = st.lists(st.floats(0, 1), min_size=len(LABELS), max_size=len(LABELS)).filter(lambda r: sum(r) > 0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LABELS), probability_rows), min_size=1, max_size=30))
def test_brier_and_ece_match_their_definitions(rows):
    true = [t for t, _ in rows]
    probs = [dict(zip(LABELS, np.array(r) / sum(r))) for _, r in rows]
    p = np.array([[q[label] for label in LABELS] for q in probs])
    onehot = np.array([[label == t for label in LABELS] for t in true], dtype=float)
    assert brier_score(true, probs) == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    confidence, hit = p.max(axis=1), np.array([LABELS[k] == t for k, t in zip(p.argmax(axis=1), true)])
    ece = 0.0
    for b in range(10):
        members = (np.minimum((confidence * 10).astype(int), 9) == b)
        if members.any():
            ece += members.mean() * abs(hit[members].mean() - confidence[members].mean())
    assert expected_calibration_error(true, probs) == pytest.approx(ece)
    assert 0 <= brier_score(true, probs) <= 2 and 0 <= expected_calibration_error(true, probs) <= 1


def test_calibration_of_no_runs_is_none():
    assert brier_score([], []) is None and expected_calibration_error([], []) is None


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    true = list(rng.choice(LABELS, 60))
    predicted = [t if rng.random() < 0.7 else str(rng.choice(COLUMNS)) for t in true]
    a = bootstrap_ci(true, predicted, n_resamples=300, seed=5)
    assert a == bootstrap_ci(true, predicted, n_resamples=300, seed=5)
    assert a != bootstrap_ci(true, predicted, n_resamples=300, seed=6)
    low, high = a["macro_f1"]
    assert low < scores(true, predicted)["macro_f1"] < high
    for label in LABELS:
        low, high = a["recall"][label]
        assert 0 <= low <= scores(true, predicted)["per_class"][label]["recall"] <= high <= 1


@given(st.sampled_from(LABELS), st.sampled_from(COLUMNS))
def test_a_suite_of_identical_runs_has_a_zero_width_interval_equal_to_the_score(label, answer):
    true, predicted = [label] * 5, [answer] * 5
    ci = bootstrap_ci(true, predicted, n_resamples=20)
    s = scores(true, predicted)
    assert ci["macro_f1"] == [pytest.approx(s["macro_f1"])] * 2
    assert ci["recall"][true[0]] == [pytest.approx(s["per_class"][true[0]]["recall"])] * 2
