"""The chaos of a climb to NaN: wild swings that stay between the climb's start and the overflow level."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.simulator import simulate_many
from curvebench.simulator.chaos import apply_chaos

climbs = st.lists(st.floats(0.0, 3.0), min_size=2, max_size=40)
normals = st.lists(st.floats(-4.0, 4.0), min_size=40, max_size=40)


def _apply(loss, z, chaos, overflow):
    loss, grad = np.array([loss]), np.ones((1, len(loss)))
    val = np.array([[7.0]])
    apply_chaos(loss, np.array([z[: loss.shape[1]]]), np.array([loss.shape[1]]), np.array([chaos]),
                np.array([overflow]), grad, np.arange(loss.shape[1])[None, :], val, np.array([[loss.shape[1] // 2]]),
                np.array([1]))
    return loss[0], grad[0], val[0, 0]


@settings(max_examples=60, deadline=None)
@given(climbs, normals, st.floats(0.05, 2.0))
def test_a_chaotic_climb_stays_between_its_running_minimum_and_the_overflow_level(steps, z, chaos):
    model = 2.0 * np.exp(np.cumsum(steps))
    overflow = 2.0 * model.max()
    loss, grad, _ = _apply(model, z, chaos, overflow)
    low = np.minimum.accumulate(model)
    assert np.all(loss >= low * (1 - 1e-12)) and np.all(loss <= overflow * (1 + 1e-12))
    assert np.allclose(grad, loss / model)  # the gradient norm moves with the loss


@settings(max_examples=30, deadline=None)
@given(climbs, normals)
def test_no_chaos_changes_nothing_and_a_nan_stays_nan(steps, z):
    model = 2.0 * np.exp(np.cumsum(steps))
    loss, grad, val = _apply(model, z, 0.0, 1e30)
    assert np.array_equal(loss, model) and np.all(grad == 1.0) and val == 7.0
    model[-1] = np.nan
    loss, _, _ = _apply(model, z, 1.0, 1e30)
    assert np.isnan(loss[-1]) and np.isfinite(loss[:-1]).all()


def test_most_nan_runs_swing_on_their_way_to_the_nan():
    """Recorded too-high learning rates swing by orders of magnitude before the NaN (2.5, 7, 13, 7, 49, 103,
    3.2, ... on a digits MLP); a quadratic model alone climbs monotonically."""
    runs = simulate_many(300, labels=["lr_high"], modes=["lr_high/nan"], seed=11, steps=400)
    swings = []
    for run in runs:
        loss = run.channel("train_loss").values
        climb = np.log(loss[np.isfinite(loss)])
        if climb.size >= 8:
            swings.append(np.diff(climb).min() < -1.0)  # a fall of e-fold or more from one point to the next
    assert len(swings) > 100 and 0.4 < np.mean(swings) < 0.95
