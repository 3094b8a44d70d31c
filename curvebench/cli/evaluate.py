"""``curvebench evaluate [--suite S...] [--detector D...] [--protocol P...] [--fail-under METRIC=MIN...] [--out DIR]``.

Scores detectors on labeled suites: a registered suite name (:mod:`curvebench.benchmark.suites`),
a labeled-suite folder or a ``.parquet`` RunSet. Without ``--suite``, every registered suite;
without ``--detector`` (or with ``all``), every registered detector: plain ``curvebench
evaluate`` is the full default benchmark. ``--protocol`` (repeatable) says what learned detectors
are trained on (:mod:`curvebench.benchmark.protocols`): ``shipped`` (the default: their shipped
parameters), ``sim-to-real`` (fitted on ``--train-sim`` simulated runs from ``--train-seed``) or
``family-split`` (leave one task family out, fitted on the suite's other families, plus
``--train-sim`` simulated runs). ``--json`` prints the scores without the per-run predictions:
for one result ``{"suite", "n_runs", "protocol", "detectors": {name: scores}}``, for several
``{"suites": {key: that}}``, a key being the suite's name, with `` [PROTOCOL]`` after it for a
protocol other than ``shipped``. Runs are replayed on every core (``--jobs -1``) by default: a
``module:Class`` detector must then be importable by the worker processes (installed, or on
``PYTHONPATH``); ``--jobs 1`` keeps everything in this process. Exit codes: 0, 1 when a
``--fail-under`` bar is missed (each missed bar on stderr: metric, wanted, got, detector,
suite), 2 for bad input (bad bar, unknown metric, suite, detector, or a family-split suite
without families).
"""

from __future__ import annotations

import json
import shlex
import sys

from curvebench.benchmark.evaluate import format_report
from curvebench.benchmark.protocols import PROTOCOLS, Protocol, evaluate_suites_under
from curvebench.benchmark.regression import missed_bars, parse_bar
from curvebench.benchmark.report import write_report
from curvebench.benchmark.suites import available_suites, load_suite
from curvebench.cli import UsageError
from curvebench.cli.common import add_map_argument, parse_mapping
from curvebench.detectors import available_detectors, get_detector

DEFAULT_TRAIN_SIM = 600
"""Simulated training runs for ``--protocol sim-to-real`` when ``--train-sim`` is not given."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="score detectors on labeled suites (names, folders or .parquet)")
    p.add_argument(
        "--suite", action="append", metavar="SUITE",
        help="registered suite name, labeled suite folder (run files + labels.csv) or .parquet "
        "(repeatable; default: every registered suite)",
    )
    p.add_argument(
        "--detector", action="append", metavar="NAME",
        help="detector name, module:Class, or 'all' for every registered one (repeatable; default: all)",
    )
    p.add_argument(
        "--protocol", action="append", choices=PROTOCOLS, metavar="PROTOCOL",
        help="what learned detectors are trained on (repeatable): shipped (default: their shipped parameters), "
        "sim-to-real (fitted on simulated runs only), family-split (leave one task family out)",
    )
    p.add_argument(
        "--train-sim", type=int, metavar="N",
        help=f"simulated training runs for the protocols (default: {DEFAULT_TRAIN_SIM} for sim-to-real, "
        "0 for family-split)",
    )
    p.add_argument("--train-seed", type=int, default=0, help="seed of the simulated training runs (default: 0)")
    p.add_argument(
        "--family-key", default="task", metavar="KEY", help="run.meta key naming a run's task family (family-split)"
    )
    p.add_argument(
        "--fail-under", action="append", metavar="METRIC=MIN", default=[],
        help="exit 1 if a detector scores below MIN on METRIC on a suite (repeatable), "
        "e.g. macro_f1=0.9, recall.lr_high=0.95, nab.standard=50",
    )
    p.add_argument("--jobs", type=int, default=-1, help="parallel jobs (joblib n_jobs; default -1: all cores)")
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
    protocols = _protocols(args)
    names = _detector_names(args.detector or ["all"])
    detectors = {name: get_detector(name) for name in names}
    mapping = parse_mapping(args.map)
    suites = {suite: load_suite(suite, mapping=mapping) for suite in args.suite or available_suites()}
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result = evaluate_suites_under(
            detectors, suites, protocols, jobs=args.jobs, progress=progress, n_resamples=args.resamples,
            seed=args.seed,
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


def _protocols(args) -> list[Protocol]:
    protocols = []
    for name in dict.fromkeys(args.protocol or ["shipped"]):
        if name == "shipped":  # nothing is trained: no training size, seed or family key to record
            protocols.append(Protocol())
            continue
        default = DEFAULT_TRAIN_SIM if name == "sim-to-real" else 0
        train_sim = default if args.train_sim is None else args.train_sim
        try:
            protocols.append(Protocol(name, train_sim, args.train_seed, args.family_key))
        except ValueError as err:
            raise UsageError(f"--protocol {name}: {err}") from None
    return protocols


def _detector_names(requested: list[str]) -> list[str]:
    names: list[str] = []
    for name in requested:
        for expanded in available_detectors() if name == "all" else [name]:
            if expanded not in names:
                names.append(expanded)
    return names


def _summary(result: dict) -> dict:
    return {
        "suite": result["suite"],
        "n_runs": result["n_runs"],
        "protocol": result["protocol"],
        "detectors": {
            name: {k: v for k, v in scores.items() if k != "predictions"}
            for name, scores in result["detectors"].items()
        },
    }


def _command(args) -> str:
    parts = ["curvebench", "evaluate"]
    for suite in args.suite or []:
        parts += ["--suite", suite]
    for detector in args.detector or []:
        parts += ["--detector", detector]
    for protocol in args.protocol or []:
        parts += ["--protocol", protocol]
    if args.protocol and set(args.protocol) != {"shipped"}:
        if args.train_sim is not None:
            parts += ["--train-sim", str(args.train_sim)]
        if args.train_seed:
            parts += ["--train-seed", str(args.train_seed)]
    if args.family_key != "task":
        parts += ["--family-key", args.family_key]
    for pair in args.map or []:
        parts += ["--map", pair]
    parts += ["--out", args.out]
    return " ".join(shlex.quote(part) for part in parts)
