"""Regenerate the shipped ``recorded-cpu`` corpus: every task x label, verified, with its sha256 and summary.

Run from the repository root (about 12 minutes on one CPU thread of a quiet 2-core machine)::

    python scripts/record_corpus.py --jobs 2

Each cell (task x label) is recorded on its own; ``--jobs`` only spreads the cells over
processes, so the output is the same for any number of jobs.

It writes ``curvebench/datasets/data/recorded-cpu.parquet``, ``recorded-cpu.parquet.sha256``
and ``recorded-cpu.summary.json`` (attempted, kept and discard reasons per task x label).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from curvebench.datasets.corpora import sha256_of
from curvebench.datasets.parquet import write_parquet
from curvebench.datasets.recorder.causes import TASKS
from curvebench.datasets.recorder.record import record, summarise
from curvebench.run import LABELS, RunSet

SEEDS = {"overfit": 24}
"""Seeds per task x label (default 32): overfit runs are long."""


def record_cell(task: str, label: str, threads: int):
    """Record one task x label cell on ``threads`` torch threads; returns its result and its seconds."""
    torch.set_num_threads(threads)
    started = time.time()
    result = record(task, label, range(SEEDS.get(label, 32)), device="cpu", progress=False)
    return result, time.time() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=os.path.join("curvebench", "datasets", "data"))
    parser.add_argument("--name", default="recorded-cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--jobs", type=int, default=1, help="cells recorded in parallel (same output)")
    args = parser.parse_args(argv)
    cells = [(task, label) for task in TASKS for label in LABELS]
    started = time.time()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(record_cell, task, label, args.threads) for task, label in cells]
        results = {}
        for (task, label), future in zip(cells, futures):
            result, seconds = future.result()
            results[(task, label)] = result
            print(f"{task:13s} {label:8s} kept {len(result.runs):3d}/{result.attempted:3d} "
                  f"{dict(result.discarded)} {seconds:.0f}s", flush=True)
    runs = RunSet(run for result in results.values() for run in result.runs)
    path = os.path.join(args.out_dir, f"{args.name}.parquet")
    write_parquet(runs, path, compact=True)
    with open(path + ".sha256", "w", encoding="utf-8") as handle:
        handle.write(f"{sha256_of(path)}  {os.path.basename(path)}\n")
    summary = {"torch": torch.__version__, "device": "cpu", "threads": args.threads, "jobs": args.jobs,
               "python": sys.version.split()[0], "seconds": round(time.time() - started), "cells": summarise(results)}
    with open(os.path.join(args.out_dir, f"{args.name}.summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    print(f"{len(runs)} runs -> {path} ({os.path.getsize(path) / 1e6:.1f} MB) in {summary['seconds']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
