"""Cost of the learned detectors: µs per streamed ``update``, and offline ``diagnose`` of 1,000 runs x 1,000 steps.

Targets for ``features`` (issue 6): <= 50 µs per update amortized; the 1,000 x 1,000 diagnose in
<= 10 s. ``minirocket`` and ``deep`` are measured when their extras are installed. Run with
``python -m pytest benchmarks/bench_learned.py --benchmark-only``; the figures are in ``extra_info``.
"""

import numpy as np
import pytest

from curvebench.detectors import available_detectors, get_detector
from curvebench.detectors.base import iter_steps
from curvebench.run import Run

LEARNED = [name for name in ("features", "deepfd", "minirocket", "deep") if name in available_detectors()]


def _run(steps: int, seed: int) -> Run:
    """A noisy run with every channel; every fourth one blows up to NaN, every fourth stalls."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    loss = (0.4 + 2.0 * (1 + t / (steps / 30)) ** -0.7) * rng.lognormal(0.0, 0.03, steps)
    if seed % 4 == 1:
        start = int(steps * rng.uniform(0.5, 0.8))
        loss[start:] *= np.exp((t[start:] - start) / 10.0)
        loss[min(start + 60, steps - 1):] = np.nan
    elif seed % 4 == 2:
        loss = np.maximum(loss, 1.5 * rng.lognormal(0.0, 0.02, steps))
    val = [v if k % 50 == 49 else None for k, v in enumerate(loss * 1.05)]
    grad = 1.0 + 0.1 * rng.standard_normal(steps) ** 2
    lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * t / steps))
    return Run.from_columns(t, train_loss=loss, val_loss=val, grad_norm=grad, lr=lr)


@pytest.mark.benchmark(group="learned-update")
@pytest.mark.parametrize("steps", [1_000, 10_000])
@pytest.mark.parametrize("name", LEARNED)
def test_update_cost(benchmark, stream_through, name, steps):
    stream = list(iter_steps(_run(steps, 0)))
    detector = get_detector(name)

    verdict = benchmark.pedantic(stream_through(detector, stream), rounds=3, iterations=1, warmup_rounds=1)
    assert verdict is not None
    benchmark.extra_info["us_per_update"] = round(benchmark.stats.stats.min / steps * 1e6, 2)


@pytest.mark.benchmark(group="learned-diagnose")
def test_features_diagnoses_1000_runs_of_1000_steps(benchmark):
    runs = [_run(1_000, seed) for seed in range(1_000)]
    detector = get_detector("features")
    verdicts = benchmark.pedantic(lambda: [detector.diagnose(run) for run in runs], rounds=1, iterations=1)
    assert len(verdicts) == 1_000
    benchmark.extra_info["seconds"] = round(benchmark.stats.stats.min, 2)
    labels = [v.label for v in verdicts]
    benchmark.extra_info["labels"] = {label: labels.count(label) for label in sorted(set(labels))}
