"""Wall time of ``evaluate``: the rules detector on 200 synthetic runs of 1,000 steps (five labels).

Run with ``python -m pytest benchmarks/bench_evaluate.py --benchmark-only``; figures are in
``extra_info`` (runs per second, microseconds per update measured during the replay). A quick
smoke run that checks the result without timing it (the default options skip benchmarks):
``python -m pytest benchmarks/bench_evaluate.py -o addopts="" --benchmark-disable``.
"""

import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate
from curvebench.detectors import RulesDetector
from curvebench.run import LABELS, Run, RunSet

RUNS = 200
STEPS = 1_000


def synthetic_suite() -> RunSet:
    """Forty runs per label: a noisy decay, then NaN (lr_high), a stall (plateau), a creep (lr_low) or a val rise."""
    rng = np.random.default_rng(0)
    t = np.arange(STEPS)
    runs = []
    for k in range(RUNS):
        label = LABELS[k % len(LABELS)]
        onset = None if label == "healthy" else int(rng.integers(200, 600))
        train = (0.3 + 2.0 * np.exp(-t / 150)) * rng.lognormal(0.0, 0.03, STEPS)
        val = train * 1.05
        if label == "lr_high":
            train[onset:] = np.nan
        elif label == "plateau":
            train[onset:] = train[onset] * rng.lognormal(0.0, 0.01, STEPS - onset)
        elif label == "lr_low":
            onset = 0
            train = 2.3 - 0.2 * t / STEPS + 0.01 * rng.standard_normal(STEPS)
            val = train * 1.05
        elif label == "overfit":
            val[onset:] = val[onset] * (1 + 0.0015 * (t[onset:] - onset))
        val_column = [v if s % 50 == 49 else None for s, v in zip(t, val)]
        runs.append(Run.from_columns(t, train_loss=train, val_loss=val_column, label=label, onset_step=onset,
                                     run_id=f"{label}-{k:03d}"))
    return RunSet(runs)


@pytest.mark.benchmark(group="evaluate")
def test_evaluate_wall_time(benchmark):
    runs = synthetic_suite()
    result = benchmark.pedantic(evaluate, args=([RulesDetector()], runs), rounds=1, iterations=1)
    rules = result["detectors"]["rules"]
    assert result["n_runs"] == RUNS and len(rules["predictions"]) == RUNS
    assert rules["per_class"]["lr_high"]["recall"] == 1.0  # a NaN is always caught
    benchmark.extra_info["macro_f1"] = round(rules["macro_f1"], 3)
    benchmark.extra_info["us_per_update"] = round(rules["us_per_update"], 1)
    if benchmark.stats is not None:
        benchmark.extra_info["runs_per_second"] = round(RUNS / benchmark.stats.stats.min, 1)
