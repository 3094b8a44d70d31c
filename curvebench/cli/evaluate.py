"""``curvebench evaluate --suite S... --detector D... [--fail-under METRIC=MIN...] [--out DIR]``.

Scores detectors on labeled suites: a registered suite name (:mod:`curvebench.benchmark.suites`),
a labeled-suite folder or a ``.parquet`` RunSet; ``--detector all`` means every registered
detector. ``--json`` prints the scores without the per-run predictions: for one suite
``{"n_runs", "detectors": {name: scores}}``, for several ``{"suites": {suite: that}}``. Exit
codes: 0, 1 when a ``--fail-under`` bar is missed (each missed bar on stderr: metric, wanted,
got, detector, suite), 2 for bad input (bad bar, unknown metric, suite or detector).
"""

from __future__ import annotations

import json
import shlex
import sys

from curvebench.benchmark.evaluate import evaluate_suites, format_report
from curvebench.benchmark.regression import missed_bars, parse_bar
from curvebench.benchmark.report import write_report
from curvebench.benchmark.suites import load_suite
from curvebench.cli import UsageError
from curvebench.cli.common import add_map_argument, parse_mapping
from curvebench.detectors import available_detectors, get_detector


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="score detectors on labeled suites (names, folders or .parquet)")
    p.add_argument(
        "--suite", action="append", required=True, metavar="SUITE",
        help="registered suite name, labeled suite folder (run files + labels.csv) or .parquet (repeatable)",
    )
    p.add_argument(
        "--detector", action="append", metavar="NAME",
        help="detector name, module:Class, or 'all' for every registered one (repeatable; default: rules)",
    )
    p.add_argument(
        "--fail-under", action="append", metavar="METRIC=MIN", default=[],
        help="exit 1 if a detector scores below MIN on METRIC on a suite (repeatable), "
        "e.g. macro_f1=0.9, recall.lr_high=0.95, nab.standard=50",
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel jobs (joblib n_jobs; -1: all cores)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument("--out", metavar="DIR", help="write leaderboard.md, results.csv, results.json and PNG plots to DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_map_argument(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    try:
        bars = [parse_bar(text) for text in args.fail_under]
    except ValueError as err:
        raise UsageError(f"--fail-under: {err}") from None
    if args.resamples < 1:
        raise UsageError(f"--resamples must be at least 1, got {args.resamples}")
    names = _detector_names(args.detector or ["rules"])
    detectors = {name: get_detector(name) for name in names}
    mapping = parse_mapping(args.map)
    suites = {suite: load_suite(suite, mapping=mapping) for suite in args.suite}
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result = evaluate_suites(
            detectors, suites, jobs=args.jobs, progress=progress, n_resamples=args.resamples, seed=args.seed
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.out:
        write_report(result, args.out, command=_command(args))
    if args.json:
        summaries = {suite: _summary(r) for suite, r in result["suites"].items()}
        print(json.dumps(next(iter(summaries.values())) if len(summaries) == 1 else {"suites": summaries}, indent=2))
    else:
        print("\n\n".join(f"suite: {suite}\n{format_report(r)}" for suite, r in result["suites"].items()))
    misses = missed_bars(result, bars)
    for miss in misses:
        print(f"curvebench evaluate: bar missed: {miss}", file=sys.stderr)
    return 1 if misses else 0


def _detector_names(requested: list[str]) -> list[str]:
    names: list[str] = []
    for name in requested:
        for expanded in available_detectors() if name == "all" else [name]:
            if expanded not in names:
                names.append(expanded)
    return names


def _summary(result: dict) -> dict:
    return {
        "n_runs": result["n_runs"],
        "detectors": {
            name: {k: v for k, v in scores.items() if k != "predictions"}
            for name, scores in result["detectors"].items()
        },
    }


def _command(args) -> str:
    parts = ["curvebench", "evaluate"]
    for suite in args.suite:
        parts += ["--suite", suite]
    for detector in args.detector or ["rules"]:
        parts += ["--detector", detector]
    for pair in args.map or []:
        parts += ["--map", pair]
    parts += ["--out", args.out]
    return " ".join(shlex.quote(part) for part in parts)
