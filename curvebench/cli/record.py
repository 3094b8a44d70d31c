"""``curvebench record --task NAME --label LABEL --seeds 0:20 --out DIR``: record verified real runs (torch extra).

Writes ``DIR/runs.parquet`` (the verified runs) and ``DIR/summary.json`` (attempted, kept and
discard reasons per task x label), and prints the same counts.
"""

from __future__ import annotations

import argparse
import json
import os

from curvebench.cli import UsageError
from curvebench.cli.common import parse_seeds
from curvebench.run import LABELS, RunSet


def parse_names(text: str, known, what: str) -> list[str]:
    """A comma list of names out of ``known``, or ``all``.

    >>> parse_names("all", ["a", "b"], "task"), parse_names("b", ["a", "b"], "task")
    (['a', 'b'], ['b'])
    """
    names = list(known) if text == "all" else [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"unknown {what} {unknown[0]!r}; expected one of {', '.join(known)} or all")
    return names


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("record", help="train real PyTorch models with a caused failure; keep verified runs")
    p.add_argument("--task", required=True, help="task family, a comma list, or all")
    p.add_argument("--label", required=True, help=f"label to cause ({', '.join(LABELS)}), a comma list, or all")
    p.add_argument("--seeds", default="0:20", help="START:STOP or a comma list (default 0:20)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where to train (default auto)")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision with a logged loss scale (default: on for CUDA only)")
    p.add_argument("--steps", type=int, help="override every cause's run length (quick checks)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for runs.parquet and summary.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args) -> int:
    from curvebench.datasets.parquet import write_parquet
    from curvebench.datasets.recorder.causes import TASKS

    tasks = parse_names(args.task, sorted(TASKS), "task")
    labels = parse_names(args.label, list(LABELS), "label")
    seeds = parse_seeds(args.seeds)
    if args.steps is not None and args.steps < 10:
        raise UsageError(f"--steps must be at least 10, got {args.steps}")
    from curvebench.datasets.recorder._torch import torch
    from curvebench.datasets.recorder.record import record_grid, summarise

    torch.set_num_threads(args.threads)
    results = record_grid(tasks, labels, seeds, device=args.device, amp=args.amp, steps=args.steps,
                          progress=not args.quiet)
    runs = RunSet(run for result in results.values() for run in result.runs)
    rows = summarise(results)
    os.makedirs(args.out, exist_ok=True)
    write_parquet(runs, os.path.join(args.out, "runs.parquet"))
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=2)
    for row in rows:
        print(f"{row['task']:14s} {row['label']:8s} kept {row['kept']:4d} of {row['attempted']:4d}  "
              f"{', '.join(f'{k}: {v}' for k, v in row['discarded'].items())}")
    print(f"{len(runs)} verified runs -> {os.path.join(args.out, 'runs.parquet')}")
    return 0
