"""The compiled kernels: the noisy quadratic model's recurrence, NaN after overflow, and threads that change no bit."""

import numpy as np

from curvebench.simulator import parallel, simulate_many
from curvebench.simulator.assemble import _bisect_noise, _sum_rows
from curvebench.simulator.curves import sum_columns
from curvebench.simulator.dynamics import ModelParams, integrate
from curvebench.simulator.overfit import _rise
from curvebench.simulator.truth import spike_counts


def test_plain_quadratic_model_follows_the_second_moment_recurrence():
    h, e0, eta = np.array([[1.0, 0.3, 0.05]]), np.array([[0.5, 2.0, 3.0]]), np.full((1, 60), 0.7)
    noise = 0.01
    traj = integrate(ModelParams.quadratic(h=h, e0=e0, noise=[noise], floor=[0.2]), eta, np.ones(1))
    s, expected = e0[0] ** 2, []
    for rate in eta[0]:
        expected.append(0.2 + 0.5 * np.sum(h[0] * s))
        s = (1 - rate * h[0]) ** 2 * s + rate**2 * noise * h[0]
    np.testing.assert_allclose(traj.train[:, 0], expected, rtol=1e-5)
    assert traj.train.dtype == np.float32 and traj.train.shape == (60, 1)


def test_a_step_above_two_over_curvature_diverges_and_overflow_leaves_nan_after_it():
    params = ModelParams.quadratic(h=[[1.0, 0.1]], e0=[[1.0, 1.0]], noise=[0.0], floor=[1.0])
    params.overflow = np.array([1e6])
    loss = integrate(params, np.full((1, 40), 1.0), np.array([2.5])).train[:, 0]
    finite = np.isfinite(loss)
    first_nan = int(np.argmin(finite))
    assert 0 < first_nan and not finite[first_nan:].any()
    assert np.all(np.diff(loss[:first_nan]) > 0)


def test_threads_change_no_bit(monkeypatch):
    monkeypatch.setattr(parallel, "THREADS", 2)
    threaded = simulate_many(3 * parallel.BLOCK, seed=4, steps=100)
    monkeypatch.setattr(parallel, "THREADS", 1)
    assert simulate_many(3 * parallel.BLOCK, seed=4, steps=100) == threaded


def test_compiled_bisections_and_sums_round_like_the_numpy_code_they_replace():
    rng = np.random.default_rng(0)
    matrix, scale, steps = rng.random((5, 40)), rng.random(5), np.array([40, 3, 17, 2, 39])
    out = np.empty(5)
    _sum_rows(matrix, scale, steps, 40, out)
    valid = np.arange(40)[None, :] < steps[:, None]
    assert np.array_equal(out, np.cumsum(np.where(valid, scale[:, None] * matrix, 0.0), axis=1)[:, -1])

    response, cap, floor = rng.random((5, 8)), rng.random((5, 8)), rng.random(5)
    cap[1, 3] = np.nan
    low, high = np.zeros(5), floor / response[:, 0]
    expected = high.copy()
    for _ in range(60):
        mid = 0.5 * (low + expected)
        short = sum_columns(np.minimum(mid[:, None] * response, cap).T) < floor
        low, expected = np.where(short, mid, low), np.where(short, expected, mid)
    _bisect_noise(response, cap, floor, high)
    assert np.array_equal(high, expected)

    base, gain = 1.0 + rng.random(30), np.linspace(0.0, 0.5, 30)
    m = 0.37
    val = base + m * gain
    assert _rise(base, gain, m) == (val[-1] - val.min()) / val.min()


def test_spike_counts_count_isolated_peaks_not_steps_up_and_stop_at_each_run_s_own_points():
    flat = [1.0] * 12
    spiky = flat + [2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0]  # a one-point and a two-point spike
    step_up = flat + [2.0] * 10  # a new level, not a spike
    hidden = flat + [2.0, 1.0, np.nan, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # NaN in the window after
    loss = np.array([spiky, step_up, hidden, spiky])
    counts = np.array([22, 22, 22, 16])  # the last run logged only its first spike
    assert spike_counts(loss, counts, np.full(4, 0.05)).tolist() == [2, 0, 0, 1]
    assert spike_counts(loss, counts, np.full(4, 1.5)).tolist() == [0, 0, 0, 0]  # below the margin
