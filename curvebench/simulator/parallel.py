"""Share the runs of a batch between threads, in interleaved blocks of :data:`BLOCK` runs.

The compiled kernels release the GIL, so the threads run at the same time. Every run is computed by one thread, alone, so
the result does not depend on the number of threads. Kernels get the block size as an
argument: numba's cache would freeze a constant imported from another module.

>>> calls = []
>>> over_runs(lambda first, stride, block: calls.append((first, stride, block)), 10)
>>> calls
[(0, 1, 64)]
>>> in_background(sum, [1, 2]).result()
3
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
"""Threads that share a batch's runs."""
BLOCK = 64
"""Runs per block: neighbouring runs share cache lines of the time-major outputs, so one thread writes them all."""

SHARES = 4
"""Calls of a kernel per thread (see :func:`over_runs`)."""

_EXECUTORS: dict[tuple[str, int], ThreadPoolExecutor] = {}


def over_runs(work: Callable[[int, int, int], object], runs: int) -> None:
    """Call ``work(first, stride, block)`` for ``first`` in ``range(stride)``; each call does blocks ``first,
    first + stride, ...`` of ``block`` runs. There are :data:`SHARES` calls per thread, taken in turn by the
    threads, so a thread slowed down (by other processes) takes fewer."""
    shares = max(1, min(SHARES * THREADS, runs // BLOCK))
    if shares == 1 or THREADS == 1:
        work(0, 1, BLOCK)
        return
    list(_executor("simulator", THREADS).map(lambda first: work(first, shares, BLOCK), range(shares)))


def in_background(function: Callable, *args) -> Future:
    """Start ``function(*args)`` on the background thread (one call at a time, in order): the main thread goes on
    with Python work while the background call spends most of its time in kernels that release the GIL."""
    return _executor("simulator-background", 1).submit(function, *args)


def _executor(name: str, workers: int) -> ThreadPoolExecutor:
    """This process's executor ``name``; a forked child makes its own (the parent's threads are not in it)."""
    key = (name, os.getpid())
    if key not in _EXECUTORS:
        _EXECUTORS.setdefault(key, ThreadPoolExecutor(workers, thread_name_prefix=f"curvebench-{name}"))
    return _EXECUTORS[key]
