"""umlaut: UMLAUT's NaN, learning-rate range and one-epoch overfitting heuristics."""

import math

import numpy as np
import pytest

from curvebench.detectors.umlaut import UmlautDetector
from curvebench.run import INSUFFICIENT_DATA, Run


def epochs(val, train, lr=None, every: int = 100) -> Run:
    steps = every * np.arange(1, len(val) + 1)
    columns = {"train_loss": train, "val_loss": val}
    if lr is not None:
        columns["lr"] = lr
    return Run.from_columns(steps, **columns)


def test_one_epoch_of_val_rising_while_train_does_not_is_overfitting():
    verdict = UmlautDetector().diagnose(epochs([1.0, 0.9, 0.91, 0.8], [1.0, 0.9, 0.9, 0.8]))
    assert (verdict.label, verdict.onset_step) == ("overfit", 300)  # train change 0 counts (<= 0)


def test_val_and_train_rising_together_is_not_overfitting():
    verdict = UmlautDetector().diagnose(epochs([1.0, 0.9, 1.0, 0.8], [1.0, 0.9, 0.95, 0.8]))
    assert verdict.label == "healthy"


def test_the_epochs_mean_train_loss_is_compared():
    steps = np.arange(1, 31)
    train = np.where(steps <= 20, 1.0, 0.5)
    train[19] = 100.0  # the last point of epoch 2 is high, but the epoch's mean still falls
    val = [0.9 if s == 10 else 1.0 if s == 20 else 1.1 if s == 30 else None for s in steps]
    verdict = UmlautDetector().diagnose(Run.from_columns(steps, train_loss=train, val_loss=val))
    assert (verdict.label, verdict.onset_step) == ("overfit", 30)


def test_nan_loss_is_lr_high_at_the_end_of_its_epoch():
    loss = np.linspace(2.0, 1.0, 50)
    loss[23] = np.nan
    per_point = UmlautDetector().diagnose(Run.from_columns(np.arange(50), train_loss=loss))
    assert (per_point.label, per_point.onset_step) == ("lr_high", 23)
    val = [1.5 if k % 10 == 9 else None for k in range(50)]
    per_epoch = UmlautDetector().diagnose(Run.from_columns(np.arange(50), train_loss=loss, val_loss=val))
    assert (per_epoch.label, per_epoch.onset_step) == ("lr_high", 29)
    assert per_epoch.evidence[0].startswith("NaNInLossError")


def test_inf_loss_is_not_nan():
    loss = np.linspace(2.0, 1.0, 50)
    loss[23] = np.inf
    assert UmlautDetector().diagnose(Run.from_columns(np.arange(50), train_loss=loss)).label == "healthy"


@pytest.mark.parametrize(("lr", "label", "kind"), [(0.1, "lr_high", "LRHighError"), (1e-8, "lr_low", "LRLowError")])
def test_learning_rate_out_of_range(lr, label, kind):
    verdict = UmlautDetector().diagnose(epochs([1.0, 0.9, 0.8], [1.0, 0.9, 0.8], lr=[lr] * 3))
    assert (verdict.label, verdict.onset_step) == (label, 100)
    assert verdict.evidence[0].startswith(kind)


def test_the_learning_rate_at_the_epoch_end_is_checked():
    steps = np.arange(1, 41)
    lr = 1e-3 * 0.5 ** (steps - 1)  # decays below 1e-7 at step 15
    val = [1.0 - 0.01 * s if s % 10 == 0 else None for s in steps]
    run = Run.from_columns(steps, train_loss=np.linspace(2, 1, 40), val_loss=val, lr=lr)
    verdict = UmlautDetector().diagnose(run)
    assert (verdict.label, verdict.onset_step) == ("lr_low", 20)


def test_the_first_error_names_the_run_and_all_are_listed():
    verdict = UmlautDetector().diagnose(
        epochs([1.0, 0.9, 0.95, 0.9], [1.0, 0.9, 0.8, 0.7], lr=[1e-3, 1e-3, 1e-3, 0.5])
    )
    assert (verdict.label, verdict.onset_step) == ("overfit", 300)
    assert verdict.evidence[1].startswith("LRHighError at step 400")


def test_missing_channels_abstain_and_say_so():
    verdict = UmlautDetector().diagnose(Run.from_columns(np.arange(10), train_loss=np.linspace(2, 1, 10)))
    assert verdict.label == "healthy"
    assert any("OverfittingError abstains" in line for line in verdict.evidence)
    assert any("no lr logged" in line for line in verdict.evidence)


def test_one_epoch_is_insufficient():
    verdict = UmlautDetector().diagnose(epochs([1.0], [1.0]))
    assert verdict.label == INSUFFICIENT_DATA


@pytest.mark.parametrize("params", [{"lr_max": -1.0}, {"lr_min": math.nan}, {"lr_min": 0.1, "lr_max": 0.01}])
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        UmlautDetector(**params)
