"""torch-plateau: PyTorch ReduceLROnPlateau and Lightning EarlyStopping at their documented rules."""

import math

import numpy as np
import pytest

from curvebench.detectors.keras import KerasDetector
from curvebench.detectors.torch_plateau import TorchPlateauDetector
from curvebench.run import INSUFFICIENT_DATA, Run


def epochs(val, train=None, every: int = 100) -> Run:
    """One val (and train) point per epoch, every ``every`` steps."""
    steps = every * np.arange(1, len(val) + 1)
    train = np.linspace(2.0, 1.0, len(val)) if train is None else train
    return Run.from_columns(steps, train_loss=train, val_loss=val)


@pytest.mark.parametrize("patience", [1, 3, 6])
def test_early_stopping_fires_at_the_patience_th_check_without_improvement(patience):
    val = [1.0, 0.9] + [0.9] * 20
    verdict = TorchPlateauDetector(es_patience=patience).diagnose(epochs(val, [1.0] * 22))
    assert (verdict.label, verdict.onset_step) == ("plateau", 100 * (2 + patience))


def test_a_change_equal_to_min_delta_is_no_improvement():
    val = [2.0] + [1.75] * 8  # exact binary fractions: one gain of exactly 0.25, then flat
    assert TorchPlateauDetector(es_min_delta=0.25).diagnose(epochs(val)).onset_step == 400
    assert TorchPlateauDetector(es_min_delta=0.125).diagnose(epochs(val)).onset_step == 500


def test_relative_threshold_differs_from_keras_absolute_min_delta_on_a_large_loss():
    val = 1000.0 - 0.005 * np.arange(30)  # 11 gains of 0.005 stay below best * 1e-4 = 0.1
    torch = TorchPlateauDetector().diagnose(epochs(val))
    assert (torch.label, torch.onset_step) == ("plateau", 100 * 12)  # 11 bad epochs > patience 10
    assert "ReduceLROnPlateau" in torch.evidence[0]
    assert KerasDetector().diagnose(epochs(val)).label == "healthy"
    # at loss scale 1 the same absolute gains are 0.5% relative: torch is content too
    assert TorchPlateauDetector().diagnose(epochs(val - 999.0)).label == "healthy"


def test_absolute_threshold_mode():
    val = 1000.0 - 0.005 * np.arange(30)
    assert TorchPlateauDetector(rlr_threshold_mode="abs").diagnose(epochs(val)).label == "healthy"


def test_val_rising_while_train_falls_is_overfit():
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.9]
    train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3]
    assert TorchPlateauDetector().diagnose(epochs(val, train)).label == "overfit"


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_check_finite_stops_at_the_first_non_finite_monitored_value(bad):
    val = [1.0, 0.9, 0.8, bad, 0.7]
    verdict = TorchPlateauDetector().diagnose(epochs(val))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 400)
    loss = np.linspace(2.0, 1.0, 40)
    loss[23:] = bad
    verdict = TorchPlateauDetector().diagnose(Run.from_columns(np.arange(40), train_loss=loss))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 23)


def test_without_check_finite_nan_is_a_non_improving_check():
    val = [1.0, 0.9, math.nan, math.nan, math.nan]
    verdict = TorchPlateauDetector(check_finite=False).diagnose(epochs(val))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 500)


def test_divergence_and_stopping_thresholds():
    val = [1.0, 0.9, 6.0, 0.2]
    diverged = TorchPlateauDetector(divergence_threshold=5.0).diagnose(epochs(val))
    assert (diverged.label, diverged.onset_step) == ("lr_high", 300)
    reached = TorchPlateauDetector(stopping_threshold=0.95).diagnose(epochs(val))
    assert (reached.label, reached.onset_step) == ("healthy", None)
    assert "stopping_threshold" in reached.evidence[0]


def test_no_val_loss_monitors_train_loss_and_says_so():
    loss = np.concatenate([np.linspace(2.0, 1.0, 20), [1.1, 1.2, 1.3]])
    verdict = TorchPlateauDetector().diagnose(Run.from_columns(np.arange(23), train_loss=loss))
    assert (verdict.label, verdict.onset_step) == ("plateau", 22)
    assert any("no val_loss logged" in line for line in verdict.evidence)


def test_too_few_checks_is_insufficient():
    verdict = TorchPlateauDetector().diagnose(epochs([1.0, 0.9, 0.95]))
    assert verdict.label == INSUFFICIENT_DATA
    assert "3 evaluations of val_loss" in verdict.evidence[0]


@pytest.mark.parametrize(
    "params",
    [{"es_patience": -1}, {"rlr_threshold": -1e-4}, {"rlr_threshold_mode": "relative"},
     {"stopping_threshold": math.inf}, {"divergence_threshold": "5"}, {"check_finite": None}],
)
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        TorchPlateauDetector(**params)
