"""Streaming cost of every registered detector: microseconds per ``update`` on a 10,000-step run.

Run with ``python -m pytest benchmarks --benchmark-only``; the figure is in ``extra_info["us_per_update"]``.
"""

import numpy as np
import pytest

from curvebench.detectors import available_detectors, get_detector
from curvebench.detectors.base import iter_steps
from curvebench.run import Run

STEPS = 10_000


def _noisy_healthy_run() -> Run:
    rng = np.random.default_rng(0)
    t = np.arange(STEPS)
    loss = (0.4 + 2.0 * (1 + t / 300) ** -0.7) * rng.lognormal(0.0, 0.03, STEPS)
    val = [v if k % 100 == 99 else None for k, v in enumerate(loss * 1.02)]
    grad = 1.0 + 0.1 * rng.standard_normal(STEPS) ** 2
    lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * t / STEPS))
    return Run.from_columns(t, train_loss=loss, val_loss=val, grad_norm=grad, lr=lr)


@pytest.mark.benchmark(group="detector-update")
@pytest.mark.parametrize("name", available_detectors())
def test_update_cost(benchmark, stream_through, name):
    stream = list(iter_steps(_noisy_healthy_run()))
    detector = get_detector(name)

    verdict = benchmark.pedantic(stream_through(detector, stream), rounds=3, iterations=1)
    assert verdict is not None
    benchmark.extra_info["us_per_update"] = round(benchmark.stats.stats.min / STEPS * 1e6, 2)
    benchmark.extra_info["verdict"] = verdict.label
