import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.monitor import TrainingHistory
from curvebench.monitor.history import exponential_smoothing


def test_record_keeps_every_step_and_fills_missing_with_nan():
    history = TrainingHistory().record(1.0, 2.0, 0.1).record(0.9)
    assert history.loss == [1.0, 0.9] and history.grad_norm[0] == 2.0
    assert math.isnan(history.grad_norm[1]) and math.isnan(history.lr[1])


def test_nan_losses_pass_through_smoothing_and_do_not_poison_it():
    smoothed = TrainingHistory(loss=[1.0, math.nan, 1.0, math.inf, 1.0]).smoothed_loss(window=5)
    assert smoothed[0] == smoothed[2] == smoothed[4] == 1.0
    assert math.isnan(smoothed[1]) and smoothed[3] == math.inf


def test_plateau_detected_on_flat_tail_not_on_steady_decline():
    t = np.arange(400)
    falling = TrainingHistory(loss=list(2.0 * np.exp(-t / 150)))
    flat = TrainingHistory(loss=list(0.5 + 2.0 * np.exp(-np.minimum(t, 150) / 20)))
    assert not falling.detect_plateau(window=100)
    assert flat.detect_plateau(window=100)
    assert not TrainingHistory(loss=[1.0] * 50).detect_plateau(window=100)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=50), st.integers(1, 30))
def test_smoothed_loss_stays_within_the_range_of_the_losses(losses, window):
    smoothed = exponential_smoothing(losses, window)
    assert len(smoothed) == len(losses)
    assert all(min(losses) - 1e-9 <= v <= max(losses) + 1e-9 for v in smoothed)
