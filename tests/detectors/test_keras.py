"""keras: Keras' TerminateOnNaN, EarlyStopping and ReduceLROnPlateau, replayed at their documented rules."""

import math

import numpy as np
import pytest

from curvebench.detectors.keras import KerasDetector
from curvebench.run import INSUFFICIENT_DATA, Run


def epochs(val, train=None, every: int = 100) -> Run:
    """One val (and train) point per epoch, every ``every`` steps."""
    steps = every * np.arange(1, len(val) + 1)
    train = np.linspace(2.0, 1.0, len(val)) if train is None else train
    return Run.from_columns(steps, train_loss=train, val_loss=val)


@pytest.mark.parametrize("patience", [0, 1, 3, 7])
def test_early_stopping_fires_at_the_patience_th_evaluation_without_improvement(patience):
    val = [1.0, 0.9] + [0.9] * 20  # equal is no improvement (strict test)
    train = [1.0] * 22  # flat train: the stop reads as a plateau
    verdict = KerasDetector(es_patience=patience).diagnose(epochs(val, train))
    non_improving = max(patience, 1)
    assert verdict.label == "plateau"
    assert verdict.onset_step == 100 * (2 + non_improving)


def test_min_delta_is_absolute():
    val = 1.0 - 0.05 * np.arange(12)  # improves by 0.05 each evaluation
    assert KerasDetector(es_min_delta=0.04).diagnose(epochs(val)).label == "healthy"
    stopped = KerasDetector(es_min_delta=0.06).diagnose(epochs(val))
    assert (stopped.label, stopped.onset_step) == ("plateau", 200)


def test_val_rising_while_train_falls_is_overfit():
    val = [1.0, 0.8, 0.7, 0.72, 0.8]
    train = [1.0, 0.8, 0.6, 0.5, 0.4]
    verdict = KerasDetector().diagnose(epochs(val, train))
    assert (verdict.label, verdict.onset_step) == ("overfit", 400)
    assert "EarlyStopping" in verdict.evidence[0]


def test_train_mean_is_taken_over_the_epoch():
    """Per-step train points between val points: the epoch's mean train loss decides overfit."""
    steps = np.arange(40)
    train = np.where(steps < 20, 1.0, 0.5)
    val = [None] * 40
    val[9], val[19], val[29], val[39] = 1.0, 0.9, 0.95, 1.2
    verdict = KerasDetector().diagnose(Run.from_columns(steps, train_loss=train, val_loss=val))
    assert (verdict.label, verdict.onset_step) == ("overfit", 29)


def test_reduce_lr_on_plateau_fires_after_patience_evaluations_within_absolute_min_delta():
    val = 1.0 - 1e-5 * np.arange(30)  # steady but tiny improvement: < min_delta=1e-4
    verdict = KerasDetector(es_patience=100).diagnose(epochs(val))
    assert (verdict.label, verdict.onset_step) == ("plateau", 100 * 11)
    assert "ReduceLROnPlateau" in verdict.evidence[0]
    # the same relative progress on a loss 1000x larger clears the absolute min_delta
    assert KerasDetector(es_patience=100).diagnose(epochs(1000 * val)).label == "healthy"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_train_loss_is_lr_high_at_that_step(bad):
    loss = np.linspace(2.0, 1.0, 50)
    loss[17] = bad
    verdict = KerasDetector().diagnose(Run.from_columns(np.arange(50) * 3, train_loss=loss))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 51)


def test_without_terminate_on_nan_a_nan_val_loss_stops_as_lr_high():
    val = [1.0, 0.9, math.nan, math.nan]
    verdict = KerasDetector(terminate_on_nan=False).diagnose(epochs(val))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 300)


def test_no_val_loss_monitors_train_loss_and_says_so():
    loss = np.concatenate([np.linspace(2.0, 1.0, 20), [1.1]])
    verdict = KerasDetector().diagnose(Run.from_columns(np.arange(21), train_loss=loss))
    assert (verdict.label, verdict.onset_step) == ("plateau", 20)
    assert any("no val_loss logged" in line for line in verdict.evidence)


def test_too_few_evaluations_is_insufficient():
    verdict = KerasDetector().diagnose(epochs([1.0], [1.0]))
    assert verdict.label == INSUFFICIENT_DATA
    assert "1 evaluations of val_loss" in verdict.evidence[0]


def test_a_stop_ends_the_run_so_later_nan_does_not_count():
    val = [1.0, 0.8, 0.9, 0.9]
    train = [1.0, 0.9, 0.95, math.nan]
    verdict = KerasDetector().diagnose(epochs(val, train))
    assert (verdict.label, verdict.onset_step) == ("plateau", 300)


@pytest.mark.parametrize(
    "params",
    [{"es_patience": -1}, {"es_patience": 1.5}, {"es_min_delta": -0.1}, {"rlr_min_delta": math.nan},
     {"rlr_patience": True}, {"terminate_on_nan": 1}],
)
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        KerasDetector(**params)


def test_parameters_are_kept_unchanged():
    detector = KerasDetector(es_patience=4, rlr_min_delta=0.5)
    assert (detector.es_patience, detector.rlr_min_delta, detector.rlr_patience) == (4, 0.5, 10)
