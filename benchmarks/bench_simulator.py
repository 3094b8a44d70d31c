"""Speed and memory of ``simulate_many``: 10,000 runs x 1,000 steps, every step logged, every channel kept.

Run with ``pytest benchmarks/bench_simulator.py --benchmark-only``. The figures land in
``benchmark.extra_info``: the median run-steps per second over :data:`ROUNDS` rounds (wall and
CPU time of the whole process, all threads), the peak memory traced while simulating
(``tracemalloc``, which sees NumPy's buffers) and two sizes of the output: the bytes of every
channel's own arrays, and the distinct buffers they keep alive (step arrays are shared between
channels and runs, values are views of chunk buffers).
"""

import statistics
import time
import tracemalloc

import numpy as np
import pytest

from curvebench.simulator import simulate_many

N_RUNS, STEPS, ROUNDS = 10_000, 1_000, 3
SETTINGS = dict(seed=0, steps=STEPS, log_every=1, log_reduce="last", has_val=True, has_grad_norm=True,
                has_lr=True)


def output_bytes(runs) -> tuple[int, int]:
    """``(channel bytes, retained buffer bytes)`` of the runs' channels."""
    own, buffers = 0, {}
    for run in runs:
        for channel in run.channels.values():
            for array in (channel.steps, channel.values):
                own += array.nbytes
                base = array if array.base is None else array.base
                buffers[id(base)] = base.nbytes
    return own, sum(buffers.values())


@pytest.mark.benchmark(group="simulate")
def test_simulate_many_10000_runs_by_1000_steps(benchmark):
    simulate_many(10, **SETTINGS)  # load the compiled kernels from numba's cache (compiles them on a first run)
    walls, cpus = [], []

    def simulate_timed():
        wall, cpu = time.perf_counter(), time.process_time()
        runs = simulate_many(N_RUNS, **SETTINGS)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        return runs

    runs = benchmark.pedantic(simulate_timed, rounds=ROUNDS, iterations=1)
    assert len(runs) == N_RUNS
    assert all(run.n_steps == STEPS or not np.isfinite(run.channel("train_loss").values).all() for run in runs)
    benchmark.extra_info["run_steps_per_second_wall"] = N_RUNS * STEPS / statistics.median(walls)
    benchmark.extra_info["run_steps_per_second_cpu"] = N_RUNS * STEPS / statistics.median(cpus)
    del runs

    tracemalloc.start()
    runs = simulate_many(N_RUNS, **SETTINGS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    own, retained = output_bytes(runs)
    benchmark.extra_info["peak_bytes"] = peak
    benchmark.extra_info["output_channel_bytes"] = own
    benchmark.extra_info["output_retained_bytes"] = retained
    benchmark.extra_info["peak_over_output"] = peak / own
    benchmark.extra_info["peak_over_retained"] = peak / retained
