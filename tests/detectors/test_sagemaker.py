"""sagemaker: SageMaker Debugger's LossNotDecreasing, Overfit and Overtraining at their documented defaults."""

import math

import numpy as np
import pytest

from curvebench.detectors.sagemaker import SageMakerDetector
from curvebench.run import INSUFFICIENT_DATA, Run


def epochs(val, train, every: int = 100) -> Run:
    steps = every * np.arange(1, len(val) + 1)
    return Run.from_columns(steps, train_loss=train, val_loss=val)


def test_loss_not_decreasing_follows_the_documented_schedule():
    """Saved every 3 steps from step 9, num_steps=10: checked at 21 against 9, then at 33 against 21."""
    steps = np.arange(9, 60, 3)
    loss = 10.0 - 0.01 * steps
    loss[steps == 33] = loss[steps == 21][0]  # no decrease between the steps the rule compares
    verdict = SageMakerDetector(patience_train=100).diagnose(Run.from_columns(steps, train_loss=loss))
    assert (verdict.label, verdict.onset_step) == ("plateau", 33)
    assert "at step 21" in verdict.evidence[0]


def test_diff_percent_demands_a_large_enough_decrease():
    steps = np.arange(0, 100, 10)
    loss = 10.0 * 0.99 ** np.arange(10)  # falls 1% per check
    run = Run.from_columns(steps, train_loss=loss)
    assert SageMakerDetector(patience_train=100).diagnose(run).label == "healthy"
    assert SageMakerDetector(patience_train=100, diff_percent=2.0).diagnose(run).onset_step == 10


def test_loss_not_decreasing_reads_val_loss_when_there_is_one():
    train = np.linspace(2.0, 1.0, 6)
    val = [1.5, 1.5, 1.5, 1.5, 1.5, 1.5]
    verdict = SageMakerDetector(ratio_threshold=10.0, patience_validation=100, delta=0.0).diagnose(
        epochs(val, train)
    )
    assert (verdict.label, verdict.onset_step) == ("plateau", 200)
    assert "LossNotDecreasing: val_loss" in verdict.evidence[0]


@pytest.mark.parametrize("patience", [1, 3])
def test_overfit_fires_after_patience_points_above_the_ratio(patience):
    train = [1.0] * 10
    val = [1.05, 1.2, 1.05, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2]  # ratio 0.05, 0.2, 0.05, then 0.2 ...
    verdict = SageMakerDetector(patience=patience, num_steps=10_000).diagnose(epochs(val, train))
    assert verdict.label == "overfit"
    assert verdict.onset_step == {1: 200, 3: 600}[patience]


def test_overfit_waits_for_start_step_and_skips_non_positive_train_loss():
    train = [-1.0, 1.0, 1.0, 1.0]
    val = [5.0, 1.0, 5.0, 5.0]
    verdict = SageMakerDetector(start_step=350, num_steps=10_000).diagnose(epochs(val, train))
    assert verdict.onset_step == 400
    assert SageMakerDetector(num_steps=10_000).diagnose(epochs(val, train)).onset_step == 300


def test_overtraining_on_val_loss_with_train_still_falling_is_overfit():
    val = [1.0] + [1.05] * 12  # above its best from the second point on
    train = list(np.linspace(1.0, 0.1, 13))
    verdict = SageMakerDetector(ratio_threshold=10.0, num_steps=10_000).diagnose(epochs(val, train))
    assert (verdict.label, verdict.onset_step) == ("overfit", 1100)  # the 10th point without improvement
    assert verdict.evidence[0].startswith("Overtraining: val_loss")


def test_overtraining_delta_is_absolute_so_the_loss_scale_matters():
    steps = np.arange(0, 300, 10)
    loss = 2.0 * 0.9 ** np.arange(30)  # falls by less than 0.1 per point after a while
    small = SageMakerDetector().diagnose(Run.from_columns(steps, train_loss=loss))
    assert small.label == "plateau" and small.evidence[0].startswith("Overtraining: train_loss")
    assert SageMakerDetector().diagnose(Run.from_columns(steps, train_loss=1000 * loss)).label == "healthy"


def test_nan_loss_is_lr_high_at_the_first_rule_that_sees_it():
    loss = 100.0 * 0.8 ** np.arange(40)
    loss[15:] = np.nan
    run = Run.from_columns(np.arange(40), train_loss=loss)
    verdict = SageMakerDetector().diagnose(run)
    assert (verdict.label, verdict.onset_step) == ("lr_high", 19)  # Overtraining: 5th NaN point
    later = SageMakerDetector(patience_train=100).diagnose(run)
    assert (later.label, later.onset_step) == ("lr_high", 20)  # LossNotDecreasing's next check


def test_without_val_loss_the_val_rules_abstain_and_say_so():
    steps = np.arange(0, 100, 10)
    verdict = SageMakerDetector().diagnose(Run.from_columns(steps, train_loss=1000 * 0.9 ** np.arange(10)))
    assert verdict.label == "healthy"
    assert any("Overfit and Overtraining on val_loss abstain" in line for line in verdict.evidence)


def test_a_run_shorter_than_num_steps_is_insufficient():
    verdict = SageMakerDetector().diagnose(Run.from_columns(np.arange(5), train_loss=[5.0, 4.0, 3.0, 2.0, 1.0]))
    assert verdict.label == INSUFFICIENT_DATA
    assert "num_steps=10" in verdict.evidence[0]


@pytest.mark.parametrize(
    "params",
    [{"num_steps": 0}, {"diff_percent": 100.0}, {"patience": 0}, {"ratio_threshold": -0.1},
     {"delta": math.inf}, {"start_step": 1.5}, {"patience_validation": True}],
)
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        SageMakerDetector(**params)


def test_save_interval_replays_the_hook_schedule():
    steps = np.arange(0, 3000)
    loss = 2.0 * np.exp(-steps / 1000) + 0.3
    run = Run.from_columns(steps, train_loss=loss)
    every_point = SageMakerDetector().diagnose(run)
    assert every_point.label == "plateau"  # 0.1 better within 5 logged steps is asked for at every step
    hook_default = SageMakerDetector(save_interval=500).diagnose(run)
    assert hook_default.label == "healthy"
    short = Run.from_columns(steps[:400], train_loss=loss[:400])
    assert SageMakerDetector(save_interval=500).diagnose(short).label == INSUFFICIENT_DATA
