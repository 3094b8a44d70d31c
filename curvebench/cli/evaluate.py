"""``curvebench evaluate --suite DIR --detector NAME...``: score detectors on a labeled suite."""

from __future__ import annotations

import json
import os

from curvebench.benchmark.evaluate import evaluate, format_report
from curvebench.cli.common import add_map_argument, parse_mapping, read_runs
from curvebench.detectors import get_detector


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="score detectors on a labeled suite folder or a .parquet RunSet")
    p.add_argument("--suite", required=True, help="labeled suite folder (run files + labels.csv) or .parquet")
    p.add_argument(
        "--detector", action="append", metavar="NAME", help="detector name or module:Class (repeatable; default: rules)"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", metavar="DIR", help="also write results.json and leaderboard.md to DIR")
    add_map_argument(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    names = args.detector or ["rules"]
    detectors = {name: get_detector(name) for name in names}
    [(_, runs)] = read_runs(args.suite, parse_mapping(args.map))
    result = evaluate(detectors, runs)
    report = format_report(result)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
        with open(os.path.join(args.out, "leaderboard.md"), "w", encoding="utf-8") as handle:
            handle.write(f"# Leaderboard: {args.suite}\n\n```\n{report}\n```\n")
    if args.json:
        summary = {"n_runs": result["n_runs"], "detectors": {}}
        for name, scores in result["detectors"].items():
            summary["detectors"][name] = {k: v for k, v in scores.items() if k != "predictions"}
        print(json.dumps(summary, indent=2))
    else:
        print(report)
    return 0
