"""Recorded runs per minute on this CPU: a stack of 32 seeds in one pass against the same 32 seeds one at a time.

Each case trains the same work both ways (32 seeds x 200 steps of the task's healthy AdamW
config, validation included) on 1 or 2 torch threads. ``extra_info`` holds, for each way, the
wall and CPU seconds (``time.process_time``: all threads of this process, other processes on a
shared machine do not count) and the recorded runs per minute by wall time, and the speed-up of
the stack (``speed_up_wall``, ``speed_up_cpu``).

Run with ``python -m pytest benchmarks/bench_recorder.py --benchmark-only -p no:cacheprovider``.
"""

import time

import pytest

torch = pytest.importorskip("torch")

from curvebench.datasets.recorder.causes import cause_variants  # noqa: E402
from curvebench.datasets.recorder.record import train_stack  # noqa: E402

SEEDS = list(range(32))
STEPS = 200
TASKS = ("digits_mlp", "charlm")
CPU = torch.device("cpu")


def _alone(task, config):
    return [run for seed in SEEDS for run in train_stack(task, config, [seed], CPU)]


def _stacked(task, config):
    return train_stack(task, config, SEEDS, CPU)


def _timed(train, task, config):
    wall, cpu = time.perf_counter(), time.process_time()
    runs = train(task, config)
    return runs, time.perf_counter() - wall, time.process_time() - cpu


@pytest.fixture
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


@pytest.mark.benchmark(group="record")
@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("task", TASKS)
def test_stacked_recording_against_one_at_a_time(benchmark, task, threads):
    config = dict(cause_variants(task, "healthy")[0]["config"], steps=STEPS)
    _stacked(task, dict(config, steps=20))
    alone, alone_wall, alone_cpu = _timed(_alone, task, config)
    timings = {}

    def stacked():
        runs, timings["wall"], timings["cpu"] = _timed(_stacked, task, config)
        return runs

    runs = benchmark.pedantic(stacked, rounds=1, iterations=1)
    assert len(runs) == len(alone) == len(SEEDS)
    per_minute = lambda seconds: round(len(SEEDS) * 60 / seconds, 1)
    benchmark.extra_info.update(
        threads=threads, runs=len(SEEDS), steps=STEPS,
        stacked_wall_s=round(timings["wall"], 2), stacked_cpu_s=round(timings["cpu"], 2),
        alone_wall_s=round(alone_wall, 2), alone_cpu_s=round(alone_cpu, 2),
        stacked_runs_per_minute=per_minute(timings["wall"]), alone_runs_per_minute=per_minute(alone_wall),
        speed_up_wall=round(alone_wall / timings["wall"], 2), speed_up_cpu=round(alone_cpu / timings["cpu"], 2),
    )
