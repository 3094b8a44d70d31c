"""Wall time of ``evaluate``: the default benchmark on a slice, the harness alone, the rules on synthetic runs.

Run with ``python -m pytest benchmarks/bench_evaluate.py --benchmark-only``; figures are in
``extra_info``:

* ``test_default_benchmark_slice``: every registered detector on every ``SLICE``-th run of each
  built-in suite (sim-v1, stress-v1, recorded-cpu), with 1 and 2 jobs; ``projected_full_s`` is the
  time of the full default benchmark (``curvebench evaluate``) that this slice stands for
  (``SLICE`` times as many runs), and ``update_s`` the seconds each detector spent in ``update``
  per suite (jobs=1: where the time goes);
* ``test_harness_overhead``: a detector that does nothing, so everything measured is the
  harness's own cost per logged step (building the step dicts, the replay loop, chunking, scoring);
* ``test_evaluate_wall_time``: the rules detector on 200 synthetic runs of 1,000 steps.

A quick smoke run that checks the results without timing them (the default options skip
benchmarks): ``python -m pytest benchmarks/bench_evaluate.py -o addopts="" --benchmark-disable``.
"""

import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate, evaluate_suites
from curvebench.benchmark.suites import load_suite
from curvebench.detectors import Detector, RulesDetector, available_detectors, get_detector
from curvebench.run import LABELS, Run, RunSet

RUNS = 200
STEPS = 1_000
BUILT_IN = ("sim-v1", "stress-v1", "recorded-cpu")
SLICE = 10
"""The slice benchmarks take every SLICE-th run of each built-in suite."""


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


def built_in_slice() -> dict[str, RunSet]:
    """Every ``SLICE``-th run of each built-in suite."""
    return {name: RunSet(list(load_suite(name))[::SLICE]) for name in BUILT_IN}


class Silent(Detector):
    """Never says anything: replaying it costs only the harness."""

    name = "silent"

    def _reset(self) -> None:
        pass

    def update(self, step, **metrics):
        return None


@pytest.mark.benchmark(group="evaluate")
@pytest.mark.parametrize("jobs", [1, 2])
def test_default_benchmark_slice(benchmark, jobs):
    suites = built_in_slice()
    detectors = {name: get_detector(name) for name in available_detectors()}
    result = benchmark.pedantic(evaluate_suites, args=(detectors, suites), kwargs={"jobs": jobs, "n_resamples": 200},
                                rounds=1, iterations=1)
    assert set(result["suites"]) == set(BUILT_IN)
    steps = {name: sum(run.steps.size for run in runs) for name, runs in suites.items()}
    benchmark.extra_info["runs"] = sum(len(runs) for runs in suites.values())
    benchmark.extra_info["update_s"] = {
        suite: {name: round(s["us_per_update"] * steps[suite] / 1e6, 2) for name, s in r["detectors"].items()}
        for suite, r in result["suites"].items()
    }
    if benchmark.stats is not None:
        benchmark.extra_info["projected_full_s"] = round(SLICE * benchmark.stats.stats.min, 1)


@pytest.mark.benchmark(group="evaluate")
def test_harness_overhead(benchmark):
    suites = built_in_slice()
    result = benchmark.pedantic(evaluate_suites, args=([Silent()], suites), kwargs={"n_resamples": 200},
                                rounds=1, iterations=1)
    assert all(r["detectors"]["silent"]["false_alarm_rate"] == 0.0 for r in result["suites"].values())
    if benchmark.stats is not None:
        steps = sum(run.steps.size for runs in suites.values() for run in runs)
        benchmark.extra_info["us_per_step"] = round(1e6 * benchmark.stats.stats.min / steps, 2)


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
