"""``jobs`` changes the speed, never the result; joblib's Dask backend runs the same code on a cluster."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate
from curvebench.detectors import get_detector
from curvebench.run import LABELS, Run, RunSet


def mixed_runs(n: int = 40) -> RunSet:
    rng = np.random.default_rng(11)
    t = np.arange(150)
    runs = []
    for k in range(n):
        label = LABELS[k % len(LABELS)]
        loss = (0.3 + 2 * np.exp(-t / 40)) * rng.lognormal(0, 0.05, t.size)
        onset = None if label == "healthy" else 60
        if label == "lr_high":
            loss[80:] = np.nan
        elif label in ("plateau", "lr_low"):
            loss[60:] = loss[60]
        runs.append(Run.from_columns(t, train_loss=loss, label=label, onset_step=onset, run_id=f"r{k}"))
    return RunSet(runs)


def without_timing(result: dict) -> dict:
    for scores in result["detectors"].values():
        assert scores.pop("us_per_update") > 0
    return result


def detectors() -> dict:
    return {"rules": get_detector("rules"), "stats": get_detector("stats")}


@pytest.fixture(scope="module")
def serial() -> dict:
    return without_timing(evaluate(detectors(), mixed_runs(), jobs=1, n_resamples=50))


def test_jobs_give_identical_results(serial):
    assert without_timing(evaluate(detectors(), mixed_runs(), jobs=2, n_resamples=50)) == serial


def test_threads_never_share_a_detector(serial):
    with joblib.parallel_backend("threading", n_jobs=4):
        assert without_timing(evaluate(detectors(), mixed_runs(), jobs=4, n_resamples=50)) == serial


def test_the_dask_backend_runs_the_same_code_on_a_cluster(serial):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster), joblib.parallel_backend("dask"):
            result = evaluate(detectors(), mixed_runs(), jobs=-1, n_resamples=50)
    assert without_timing(result) == serial
