"""Recorded runs per minute on this CPU: a stack of seeds in one pass against the same seeds one at a time.

Run with ``python -m pytest benchmarks/bench_recorder.py --benchmark-enable -p no:cacheprovider``;
``extra_info`` holds ``runs_per_minute`` for each mode (the speed-up is their ratio).
"""

import pytest

torch = pytest.importorskip("torch")

from curvebench.datasets.recorder.causes import cause_variants  # noqa: E402
from curvebench.datasets.recorder.record import train_stack  # noqa: E402

SEEDS = list(range(32))
TASKS = ("digits_mlp", "charlm")


def _alone(task, config):
    return [run for seed in SEEDS for run in train_stack(task, config, [seed], torch.device("cpu"))]


def _stacked(task, config):
    return train_stack(task, config, SEEDS, torch.device("cpu"))


@pytest.mark.benchmark(group="record")
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("mode", ["stacked", "one_at_a_time"])
def test_recorded_runs_per_minute(benchmark, task, mode):
    torch.set_num_threads(1)
    config = dict(cause_variants(task, "healthy")[0]["config"], steps=200)
    train = _stacked if mode == "stacked" else _alone
    runs = benchmark.pedantic(train, args=(task, config), rounds=1, iterations=1)
    assert len(runs) == len(SEEDS)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(runs=len(runs), steps=config["steps"], seconds=round(seconds, 2),
                                runs_per_minute=round(len(runs) * 60 / seconds, 1))
