"""Simulated healthy runs carry the measured facts of real runs (docs/simulator.md, REAL-CURVES.md)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from curvebench.simulator import simulate, simulate_many


def residuals(loss, window=51):
    """Per-step loss relative to its centred rolling median, minus 1 (the measure used on the nanoGPT logs)."""
    padded = np.pad(loss, window // 2, mode="edge")
    median = np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)
    return (loss / median - 1.0)[200:]


@pytest.fixture(scope="module")
def healthy_noise():
    runs = simulate_many(8, labels=["healthy"], modes=["healthy/smooth"], seed=7, steps=3000, log_every=1,
                         noise_shape="skewed", loss_noise=0.024, kicks=0)
    return [residuals(run.channel("train_loss").values) for run in runs]


def test_minibatch_noise_is_white_right_skewed_and_heavy_tailed(healthy_noise):
    pooled = np.concatenate(healthy_noise)
    lag1 = np.median([np.corrcoef(r[:-1], r[1:])[0, 1] for r in healthy_noise])
    assert abs(lag1) < 0.08
    assert np.median([stats.skew(r) for r in healthy_noise]) > 0.8
    assert np.median([stats.kurtosis(r) for r in healthy_noise]) > 4
    mad = 1.4826 * np.median(np.abs(pooled - np.median(pooled)))
    z = (pooled - np.median(pooled)) / mad
    assert 0.004 < np.mean(z > 4) < 0.04
    assert np.mean(z < -4) < 0.25 * np.mean(z > 4)
    assert 0.015 < mad < 0.035


def test_noise_level_scales_like_one_over_sqrt_batch():
    def level(batch):
        run = simulate("healthy", mode="healthy/smooth", seed=3, steps=2000, log_every=1, noise_shape="gaussian",
                       loss_noise=0.3 / np.sqrt(batch), batch_size=batch, kicks=0)
        r = residuals(run.channel("train_loss").values)
        return np.std(r)

    assert level(64) / level(1024) == pytest.approx(4.0, rel=0.2)


def test_a_linear_warm_down_speeds_the_drop():
    runs = simulate_many(8, labels=["healthy"], modes=["healthy/smooth"], seed=2, steps=3000, log_every=1,
                         schedule="wsd", decay=0.3, warmup=0.0, kicks=0, noise_floor=0.03, noise_scaling=0.5)
    ratios = []
    for run in runs:
        loss = run.channel("train_loss").values
        m = lambda a, b: np.median(loss[a:b])  # noqa: E731
        before = m(1050, 1200) - m(1950, 2100)
        during = m(1950, 2100) - m(2850, 3000)
        ratios.append(during / before)
    assert np.median(ratios) > 1.2


def test_gradient_norm_rises_late_while_the_learning_rate_decays():
    runs = simulate_many(12, labels=["healthy"], modes=["healthy/smooth"], seed=4, steps=3000, log_every=1,
                         schedule="linear", warmup=0.0, weight_decay=10.0, has_grad_norm=True, kicks=0)
    rises = []
    for run in runs:
        grad = run.channel("grad_norm").values
        rises.append(np.median(grad[-150:]) / np.median(grad[1200:1500]))
    assert np.median(rises) > 1.1


def test_single_epoch_pretraining_has_no_overfit_gap():
    runs = simulate_many(8, labels=["healthy"], modes=["healthy/smooth"], seed=5, steps=2000, memorization=0.0,
                         has_val=True)
    for run in runs:
        val = run.channel("val_loss")
        loss = run.channel("train_loss")
        tail = loss.values[loss.steps >= val.steps[-1] - 100]
        assert abs(val.values[-1] / np.median(tail) - 1) < 0.05


def test_overfit_training_loss_collapses_while_validation_rises_less():
    runs = simulate_many(6, labels=["overfit"], seed=6, steps=1000, log_every=1, train_residual=1e-5,
                         memorization_time=0.02, onset_at=0.2, severity=0.5)
    for run in runs:
        train, val = run.channel("train_loss").values, run.channel("val_loss").values
        assert np.median(train[-50:]) < 0.01 * train[0], run.run_id
        assert val[-1] < 2.0 * val.min(), run.run_id


def test_overfit_validation_keeps_rising_as_long_as_the_training_loss_falls():
    """Confidence growth: validation keeps rising with log(1/train), not only while the memorization is done."""
    def rise_in_second_half(saturation):
        runs = simulate_many(12, labels=["overfit"], seed=5, steps=1000, log_every=1, val_noise=0.0,
                             confidence_saturation=saturation)
        shares = []
        for run in runs:
            val = run.channel("val_loss")
            best = int(np.argmin(val.values))
            half = best + (len(val.values) - 1 - best) // 2
            shares.append((val.values[-1] - val.values[half]) / (val.values[-1] - val.values[best]))
        return np.median(shares)

    assert rise_in_second_half(None) > 0.3  # recorded digits runs: 0.34-0.44
    assert rise_in_second_half(0.3) < rise_in_second_half(None)  # a saturating (regression) cost rises early


def test_initial_loss_sets_where_a_run_starts_and_keeps_its_drawn_miscalibration():
    run = simulate("healthy", seed=1, steps=300, log_every=1, initial_loss=3.0, loss_noise=0.001)
    knobs = run.meta["knobs"]
    assert abs(run.channel("train_loss").values[0] / 3.0 - 1) < 0.02
    assert np.isclose(knobs["chance_loss"] + knobs["init_excess"], 3.0)
    with pytest.raises(ValueError, match="initial_loss"):
        simulate("healthy", seed=1, steps=300, initial_loss=3.0, n_classes=10)


def test_matched_runs_evaluate_at_the_start_when_the_real_run_does():
    from curvebench.run import Run
    from curvebench.simulator.realism import observed_knobs

    def run_evaluated_at(first):
        val = {int(s): 1.0 for s in range(first, 200, 40)}
        return Run.from_columns(list(range(200)), train_loss=np.linspace(2.0, 1.0, 200).tolist(),
                                val_loss=[val.get(s) for s in range(200)])

    assert observed_knobs(run_evaluated_at(0))["eval_at_start"] is True
    assert observed_knobs(run_evaluated_at(40))["eval_at_start"] is False


def test_wander_makes_the_loss_positively_autocorrelated():
    from curvebench.simulator.realism import curve_features

    def lag1(wander):
        runs = simulate_many(8, labels=["lr_low"], seed=3, steps=800, log_every=1, loss_noise=0.03,
                             noise_shape="gaussian", wander=wander, wander_steps=8.0)
        return np.median([curve_features(run)[21] for run in runs])  # lag-1 autocorrelation of the residual

    assert lag1(0.0) < 0.0 < lag1(3.0)


def test_wander_moves_the_validation_loss_with_the_training_loss():
    def tails(wander):
        runs = simulate_many(4, labels=["plateau"], modes=["plateau/early"], seed=4, steps=2000, log_every=10,
                             eval_every=10, has_val=True, val_noise=0.0, loss_noise=0.03, wander=wander,
                             wander_steps=200.0)
        return [(run.channel("train_loss").values[-100:], run.channel("val_loss").values[-100:]) for run in runs]

    for train, val in tails(0.0):
        assert np.std(val) / np.mean(val) < 0.005
    for train, val in tails(3.0):
        assert np.std(val) / np.mean(val) > 0.02
        assert np.corrcoef(train, val)[0, 1] > 0.5


def test_a_collapsed_network_keeps_a_gradient_through_its_output_layer():
    def tail_gradient(readout):
        run = simulate("lr_high", mode="lr_high/collapse", seed=2, steps=600, log_every=1, has_grad_norm=True,
                       readout_noise=readout, grad_noise=0.0)
        grad = run.channel("grad_norm").values
        return np.median(grad[-100:]) / grad.max()

    assert tail_gradient(0.0) < 1e-3 and tail_gradient(0.1) > 0.01


def test_the_realism_report_also_scores_the_classifier_on_held_out_task_families():
    from curvebench.run import RunSet
    from curvebench.simulator.realism import realism_report

    runs = simulate_many(24, labels=["lr_low"], seed=8, steps=200)
    for i, run in enumerate(runs):
        run.meta["task"] = f"family{i % 3}"
    row = realism_report(RunSet(runs), seed=1)["lr_low"]
    assert row["families"] == 3 and 0.0 <= row["auc_across_families"] <= 1.0
    for run in runs:
        del run.meta["task"]
    assert realism_report(RunSet(runs), seed=1)["lr_low"]["auc_across_families"] is None


def test_matched_runs_copy_the_learning_rate_schedule_a_real_run_logged():
    from curvebench.run import Run
    from curvebench.simulator.realism import observed_knobs

    steps = np.arange(400)
    lr = 1e-3 * np.minimum(1.0, (steps + 1) / 40) * np.where(steps < 200, 1.0, np.where(steps < 300, 0.1, 0.01))
    real = Run.from_columns(steps, train_loss=np.linspace(2.3, 0.4, 400), lr=lr, label="healthy")
    knobs = observed_knobs(real)
    assert knobs["schedule"] == "step" and knobs["warmup"] == 0.1
    assert np.isclose(knobs["gamma"], 0.1) and (knobs["milestone1"], knobs["milestone2"]) == (0.5, 0.75)
    twin = simulate("healthy", seed=0, **knobs)
    assert np.argmax(twin.channel("lr").values) == 39


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(1e-7, 1.0), st.just(float("nan"))), min_size=0, max_size=60))
def test_any_logged_learning_rate_gives_schedule_knobs_the_simulator_accepts(lr):
    from curvebench.simulator.realism import observed_schedule

    knobs = observed_schedule(np.array(lr))
    assert set(knobs) <= {"warmup", "schedule", "final", "gamma", "milestone1", "milestone2"}
    run = simulate("healthy", seed=0, steps=max(len(lr), 2), has_lr=True, **knobs)
    assert np.isfinite(run.channel("lr").values).all() and (run.channel("lr").values >= 0).all()


def test_the_realism_report_names_the_feature_that_gives_simulated_runs_away():
    from curvebench.simulator.realism import giveaways

    quiet = simulate_many(12, labels=["lr_low"], seed=9, steps=300, log_every=1, noise_shape="gaussian",
                          loss_noise=0.005)
    noisy = simulate_many(12, labels=["lr_low"], seed=10, steps=300, log_every=1, noise_shape="gaussian",
                          loss_noise=0.1)
    top = giveaways(quiet, noisy, top=1)[0]
    assert top["feature"] == "log noise level" and top["auc"] == 1.0 and top["real"] < top["simulated"]


def test_the_mode_report_names_real_and_simulated_modes_by_one_rule_and_counts_the_mix():
    from curvebench.run import RunSet
    from curvebench.simulator.realism import mode_report

    runs = simulate_many(30, labels=["lr_high"], seed=11, steps=200)
    for i, run in enumerate(runs):
        run.meta["task"] = f"family{i % 3}"

    def name_mode(run):  # non-finite somewhere: "nan"; any other run is "other"
        return "lr_high/nan" if not np.isfinite(run.channel("train_loss").values).all() else "lr_high/other"

    report = mode_report(RunSet(runs), name_mode, seed=2, min_runs=3, repeats=2)
    real, simulated = report["mix"]["lr_high"]["real"], report["mix"]["lr_high"]["simulated"]
    assert sum(real.values()) == 30 and sum(simulated.values()) == 60
    assert real == Counter(name_mode(run) for run in runs)
    for mode, row in report["modes"].items():
        assert row["real"] == real[mode] and 3 <= row["simulated"] <= simulated[mode]
        assert 0.0 <= row["auc"] <= 1.0
        assert (row["auc_across_families"] is None) == (row["families"] < 3)
    assert report["modes"]


def test_a_matched_run_shows_the_noise_level_its_real_run_shows():
    from curvebench.simulator.realism import FEATURES, curve_features, observed_knobs

    level = FEATURES.index("log noise level")
    real = simulate_many(8, labels=["lr_low"], seed=12, steps=1000, log_every=1, noise_shape="gaussian",
                         loss_noise=0.03, noise_power=1.0)
    shown = [curve_features(run)[level] for run in real]
    twins = [curve_features(simulate("lr_low", seed=i, **observed_knobs(run)))[level] for i, run in enumerate(real)]
    assert abs(np.median(twins) - np.median(shown)) < 0.05  # the residual scale's shrinkage is divided out


def test_family_giveaways_find_what_separates_inside_families_that_pooling_hides():
    from curvebench.run import RunSet
    from curvebench.simulator.realism import family_giveaways, giveaways

    def runs(seed, noise, task):
        made = simulate_many(8, labels=["lr_low"], seed=seed, steps=300, log_every=1, noise_shape="gaussian",
                             loss_noise=noise)
        for run in made:
            run.meta["task"] = task
        return list(made)

    real = RunSet(runs(1, 0.005, "quiet") + runs(2, 0.1, "noisy"))
    simulated = RunSet(runs(3, 0.03, "quiet") + runs(4, 0.03, "noisy"))  # one prior for both families
    within = {row["feature"]: row for row in family_giveaways(real, simulated, top=30)}["log noise level"]
    pooled = {row["feature"]: row for row in giveaways(real, simulated, top=30)}["log noise level"]
    assert within["auc"] == 1.0 and set(within["families"]) == {"quiet", "noisy"}
    assert pooled["auc"] < 0.75
    with pytest.raises(ValueError, match="one simulated run per real run"):
        family_giveaways(real, RunSet(list(simulated)[:3]))
