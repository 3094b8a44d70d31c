"""NAB-style early-detection score: normalisation, the window and the profiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curvebench.benchmark.nab import PROFILES, nab_score, run_score, scaled_sigmoid

LABELS = ["lr_high", "plateau", "healthy", "healthy"]
ONSETS = [100, 0, None, None]
LENGTHS = [1000, 500, 1000, 1000]


@pytest.mark.parametrize("profile", PROFILES)
def test_silence_scores_0_and_alarming_at_every_onset_100(profile):
    assert nab_score(LABELS, ONSETS, LENGTHS, [None] * 4, profile) == 0.0
    assert nab_score(LABELS, ONSETS, LENGTHS, [100, 0, None, None], profile) == pytest.approx(100.0)


def test_a_suite_without_a_timed_pathology_has_no_score():
    assert nab_score(["healthy", "lr_high"], [None, None], [10, 10], [None, 3]) is None


def test_the_sigmoid_is_nab_s():
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(0.0) == 0.0 and scaled_sigmoid(3.5) == -1.0
    assert scaled_sigmoid(1.0) == pytest.approx(2 / (1 + math.exp(5)) - 1)


def test_placement_of_the_first_alarm():
    standard = PROFILES["standard"]
    # window: 10% of 1000 steps after the onset at 100, i.e. steps 100 to 199
    inside = run_score("lr_high", 100, 1000, 150, standard)
    assert inside == pytest.approx(scaled_sigmoid(-0.5))
    assert run_score("lr_high", 100, 1000, 250, standard) == pytest.approx(-1 + 0.11 * scaled_sigmoid(0.5))
    assert run_score("lr_high", 100, 1000, 50, standard) == pytest.approx(-1.11)  # before the onset
    assert run_score("lr_high", 100, 1000, None, standard) == -1.0
    assert run_score("healthy", None, 1000, 5, standard) == -0.11
    assert run_score("healthy", None, 1000, None, standard) == 0.0


def test_profiles_weigh_false_positives_and_negatives():
    early_fp = [100, None, 7, 7]  # one timely detection, one miss, two false alarms
    standard, low_fp, low_fn = (nab_score(LABELS, ONSETS, LENGTHS, early_fp, p) for p in PROFILES)
    assert low_fp < standard  # false alarms cost twice as much
    assert low_fn != standard


@given(st.integers(100, 199), st.integers(100, 199))
def test_earlier_in_the_window_scores_higher(a, b):
    early, late = sorted((a, b))
    score = lambda t: nab_score(["lr_high"], [100], [1000], [t])  # noqa: E731
    assert score(early) >= score(late)
    assert 0 < score(late) <= 100
