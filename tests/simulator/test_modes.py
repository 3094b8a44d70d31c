"""Every label and mode shows its defining property in the numbers, with the onset where it belongs."""

import numpy as np
import pytest

from curvebench.simulator import SCENARIOS, simulate_many
from curvebench.simulator.scenarios import scenarios_for
from curvebench.simulator.truth import HEALTHY_MAX_VAL_RISE


def smooth(values, window=9):
    values = np.asarray(values, dtype=float)
    if values.size < window:
        return values
    padded = np.pad(values, window // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


def train(run):
    channel = run.channel("train_loss")
    return channel.steps, channel.values


def test_every_label_has_modes_and_a_registered_scenario_per_mode():
    assert {s.label for s in SCENARIOS.values()} == {"healthy", "lr_high", "lr_low", "overfit", "plateau"}
    assert {s.mode for s in scenarios_for("lr_high")} >= {
        "lr_high/nan", "lr_high/oscillation", "lr_high/spikes", "lr_high/divergence"}
    assert {s.mode for s in scenarios_for("plateau")} == {"plateau/early", "plateau/stuck"}


@pytest.mark.parametrize("mode", [m for m in SCENARIOS if m.startswith("healthy/")])
def test_healthy_runs_learn_stay_finite_and_have_no_onset(runs_by_mode, mode):
    for run in runs_by_mode[mode]:
        assert run.onset_step is None and run.mode == mode
        for channel in run.channels.values():
            assert np.isfinite(channel.values).all()
        _, loss = train(run)
        floor = run.meta["knobs"]["floor_loss"]
        s = smooth(loss)
        start, end = s[: max(3, len(s) // 50)].max(), np.median(s[-len(s) // 10:])
        assert end < start - 0.3 * (start - floor), run.run_id
        if run.has("val_loss"):
            val = run.channel("val_loss").values
            noise = run.meta["knobs"]["val_noise"]
            assert val[-1] <= val.min() * (1 + HEALTHY_MAX_VAL_RISE + 4 * noise), run.run_id


def test_nan_runs_are_finite_before_onset_and_non_finite_from_it(runs_by_mode):
    for run in runs_by_mode["lr_high/nan"]:
        steps, loss = train(run)
        before, after = loss[steps < run.onset_step], loss[steps >= run.onset_step]
        assert before.size and np.isfinite(before).all()
        assert after.size and not np.isfinite(after).any()


def test_an_exploding_loss_never_falls_to_zero_on_its_way_to_nan():
    runs = simulate_many(800, labels=["lr_high"], modes=["lr_high/nan"], seed=5, steps=300)
    for run in runs:
        _, loss = train(run)
        assert loss[np.isfinite(loss)].min() > 1e-3 * run.meta["knobs"]["chance_loss"], run.run_id


def test_divergence_climbs_steadily_after_onset_and_stays_finite(runs_by_mode):
    for run in runs_by_mode["lr_high/divergence"]:
        steps, loss = train(run)
        assert np.isfinite(loss).all()
        s = smooth(loss)
        at = np.searchsorted(steps, run.onset_step)
        assert s[-1] > 1.05 * s[:at + 1].min(), run.run_id
        tail = s[at:]
        rising = np.mean(np.diff(tail[:: max(1, len(tail) // 20)]) > 0)
        assert rising >= 0.7, (run.run_id, rising)


def test_oscillation_zig_zags_with_growing_amplitude_after_onset(runs_by_mode):
    for run in runs_by_mode["lr_high/oscillation"]:
        steps, loss = train(run)
        at = np.searchsorted(steps, run.onset_step)
        level = np.median(loss)
        swing = np.abs(np.diff(loss)) / level
        before = np.median(swing[:max(at, 5)])
        late = np.median(swing[-max(5, (len(swing) - at) // 4):])
        assert late > before, run.run_id


def test_spikes_repeat_and_the_loss_trends_up(runs_by_mode):
    for run in runs_by_mode["lr_high/spikes"]:
        steps, loss = train(run)
        at = np.searchsorted(steps, run.onset_step)
        trend = smooth(loss, 31)
        high = loss > trend * (1.05 + 3 * run.meta["knobs"]["loss_noise"])
        starts = np.flatnonzero(high[1:] & ~high[:-1])
        assert (starts >= at - 1).sum() >= 2, run.run_id
        assert np.median(loss[-len(loss) // 10:]) > trend[at:].min(), run.run_id


def burst_left(knobs, steps):
    """The factor a first-steps burst still multiplies the loss by at ``steps`` (1 without one)."""
    if not knobs["burst_height"]:
        return np.ones(len(steps))
    since = (steps - knobs["burst_step"]) / knobs["burst_decay"]
    return np.where(since >= 0, (1 + knobs["burst_height"]) ** np.exp(-np.maximum(since, 0)), 1.0)


def lingers(knobs):
    return bool(knobs["burst_height"]) and knobs["burst_decay"] >= 0.05 * knobs["steps"]


def test_collapse_ends_hovering_at_chance_with_a_gradient_that_does_not_vanish(runs_by_mode):
    """At chance once the burst has passed; under a burst that lingers, at chance times what is left of it."""
    for run in runs_by_mode["lr_high/collapse"]:
        steps, loss = train(run)
        knobs = run.meta["knobs"]
        tail = (loss / burst_left(knobs, steps))[-len(loss) // 5:]
        assert -0.02 < np.median(tail) / knobs["chance_loss"] - 1 < 0.3, run.run_id
        if run.has("grad_norm"):
            grad = run.channel("grad_norm").values
            tail = grad[-len(grad) // 5:]
            first = grad[0] / np.sqrt(burst_left(knobs, steps[:1])[0])  # the burst also lifts the gradient norm
            dead_level = 1e-2 * first / knobs["dead_grad_fall"]  # growing weights lower it by the fall
            assert np.isfinite(tail).all() and np.median(tail) > dead_level, run.run_id


def test_a_collapsed_networks_gradient_keeps_falling_when_nothing_holds_its_weights(runs_by_mode):
    falls = []
    for run in runs_by_mode["lr_high/collapse"]:
        if run.has("grad_norm") and run.meta["knobs"]["dead_grad_fall"] > 1.0:
            grad = run.channel("grad_norm").values
            fifth = max(3, len(grad) // 5)
            falls.append(np.median(grad[-fifth:]) < np.median(grad[fifth:2 * fifth]))
    assert len(falls) >= 4 and all(falls)


def test_collapse_bursts_in_its_first_steps_and_its_onset_is_the_burst(runs_by_mode):
    bursts = 0
    for run in runs_by_mode["lr_high/collapse"]:
        knobs = run.meta["knobs"]
        if not knobs["burst_height"]:
            continue
        steps, loss = train(run)
        at = int(np.searchsorted(steps, knobs["burst_step"]))
        assert run.onset_step <= steps[at], run.run_id
        during = (steps >= knobs["burst_step"]) & (steps <= knobs["burst_step"] + knobs["burst_decay"])
        if during.any():
            bursts += 1
            assert loss[during].max() > 1.5 * np.median(loss[-len(loss) // 5:]), run.run_id
    assert bursts >= 4


def test_a_slow_runs_gradient_norm_falls_with_its_loss(runs_by_mode):
    falls = []
    for run in runs_by_mode["lr_low/slow"]:
        if run.has("grad_norm"):
            grad = run.channel("grad_norm").values
            fifth = max(3, len(grad) // 5)
            falls.append(np.median(grad[-fifth:]) < np.median(grad[:fifth]))
    assert len(falls) >= 4 and np.mean(falls) >= 0.75


def test_lr_low_declines_only_a_little_and_keeps_its_gradient(runs_by_mode):
    for run in runs_by_mode["lr_low/slow"]:
        steps, loss = train(run)
        assert run.onset_step == steps[0]
        knobs = run.meta["knobs"]
        tenth = max(3, len(loss) // 10)
        drop = np.median(loss[:tenth]) - np.median(loss[-tenth:])
        learnable = knobs["chance_loss"] + knobs["init_excess"] - knobs["floor_loss"]
        noise = 3 * knobs["loss_noise"] * np.median(loss) / np.sqrt(tenth)
        assert -noise < drop <= 0.45 * learnable, run.run_id
        if run.has("grad_norm"):
            grad = run.channel("grad_norm").values
            assert grad[-1] > 0.2 * grad[0], run.run_id


def test_severity_sets_how_much_an_lr_low_run_learns_linearly():
    def median_learned(severity):
        runs = simulate_many(12, labels=["lr_low"], seed=5, steps=600, severity=severity, loss_noise=1e-4, log_every=1)
        return np.median([(run.meta["knobs"]["chance_loss"] - train(run)[1][-1])
                          / (run.meta["knobs"]["chance_loss"] - run.meta["knobs"]["floor_loss"]) for run in runs])

    borderline, middle, blatant = median_learned(0.0), median_learned(0.5), median_learned(1.0)
    assert blatant < 0.05 < 0.25 < borderline <= 0.41
    assert abs(middle - (borderline + blatant) / 2) < 0.05


def test_half_the_lr_low_runs_see_no_evaluation_noise():
    runs = simulate_many(60, labels=["lr_low"], seed=11, steps=400)
    monotone = [np.all(np.diff(run.channel("val_loss").values) <= 0) for run in runs if run.has("val_loss")]
    assert len(monotone) >= 20 and np.mean(monotone) >= 0.45


def test_overfit_onset_is_the_validation_minimum_and_val_rises_by_the_margin(runs_by_mode):
    for run in runs_by_mode["overfit/memorization"]:
        val = run.channel("val_loss")
        best = int(np.argmin(val.values))
        assert run.onset_step == val.steps[best]
        rise = run.meta["knobs"]["rise"]
        assert val.values[-1] >= (1 + rise) * val.values[best], run.run_id
        steps, loss = train(run)
        s = smooth(loss)
        assert s[-1] < s[np.searchsorted(steps, run.onset_step)], run.run_id


def test_early_plateau_is_flat_after_onset_and_far_above_the_floor(runs_by_mode):
    for run in runs_by_mode["plateau/early"]:
        steps, loss = train(run)
        knobs = run.meta["knobs"]
        at = np.searchsorted(steps, run.onset_step)
        after, end = np.median(loss[at + 1: at + 11]), np.median(loss[-10:])
        drop = loss[0] - end
        assert abs(after - end) <= 0.15 * drop + 4 * knobs["loss_noise"] * end, run.run_id
        height = (end - knobs["floor_loss"]) / (knobs["chance_loss"] - knobs["floor_loss"])
        assert height >= 0.09, run.run_id


def test_stuck_runs_sit_near_chance_with_a_vanishing_gradient(runs_by_mode):
    for run in runs_by_mode["plateau/stuck"]:
        _, loss = train(run)
        knobs = run.meta["knobs"]
        learnable = knobs["chance_loss"] - knobs["floor_loss"]
        tail = np.median(loss[len(loss) // 2:])
        assert knobs["chance_loss"] - tail <= 0.1 * learnable, run.run_id
        if run.has("grad_norm"):
            assert np.median(run.channel("grad_norm").values[len(loss) // 2:]) < 0.3 * knobs["grad_scale"]


@pytest.mark.parametrize("mode", [m for m in SCENARIOS if not m.startswith("healthy/")])
def test_pathological_runs_have_an_onset_inside_the_run(runs_by_mode, mode):
    for run in runs_by_mode[mode]:
        assert run.onset_step is not None
        assert 0 <= run.onset_step <= run.last_step


def test_severity_moves_runs_from_borderline_to_blatant():
    def final_rise(severity):
        runs = simulate_many(8, labels=["overfit"], seed=1, steps=600, severity=severity)
        return np.median([r.channel("val_loss").values[-1] / r.channel("val_loss").values.min() for r in runs])

    def learned(severity):
        runs = simulate_many(8, labels=["lr_low"], seed=1, steps=600, severity=severity)
        return np.median([1 - smooth(r.channel("train_loss").values)[-1] / smooth(r.channel("train_loss").values)[0]
                          for r in runs])

    assert final_rise(1.0) > final_rise(0.0) + 0.2
    assert learned(1.0) < learned(0.0)


def test_nan_runs_blow_up_by_orders_of_magnitude_with_their_gradient_norm_before_the_nan():
    """Recorded: 1e8-1e34 times the first loss before the NaN. A chaotic climb logged coarsely can catch only
    its low points, so a few runs may not show it."""
    blown, grad_blown = [], []
    for run in simulate_many(200, labels=["lr_high"], modes=["lr_high/nan"], seed=4, steps=800):
        _, loss = train(run)
        finite = loss[np.isfinite(loss)]
        if finite.size < 3:  # a coarse log can go NaN at its first points
            continue
        blown.append(finite.max() > 1e4 * finite[0])
        if run.has("grad_norm"):
            grad = run.channel("grad_norm").values
            grad_blown.append(grad[np.isfinite(grad)].max() > 100 * grad[0])
    assert len(blown) > 150 and np.mean(blown) >= 0.95 and np.mean(grad_blown) >= 0.95


def test_a_lingering_burst_keeps_the_loss_far_above_chance_for_a_stretch_then_recovers_slowly(runs_by_mode):
    """The TaskSet face of a too-high learning rate: blown up at once, high for much of the run, falling back."""
    seen = 0
    for run in runs_by_mode["lr_high/collapse"]:
        knobs = run.meta["knobs"]
        if not lingers(knobs):
            continue
        seen += 1
        steps, loss = train(run)
        after = smooth(loss)[steps >= knobs["burst_step"]]
        assert np.mean(after >= 1.5 * knobs["chance_loss"]) >= 0.05, run.run_id
        fifth = max(1, len(after) // 5)
        assert np.median(after[-fifth:]) < np.median(after[:fifth]), run.run_id
    assert seen >= 3


def test_collapse_mostly_settles_below_its_first_loss(runs_by_mode):
    """A dead network's readout learns the best constant; a random initialization starts above it."""
    ratios = [np.median(train(run)[1][-len(train(run)[1]) // 5:]) / train(run)[1][0]
              for run in runs_by_mode["lr_high/collapse"]]
    assert np.mean(np.array(ratios) < 0.95) >= 0.6
