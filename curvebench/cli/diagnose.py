"""``curvebench diagnose PATH...``: the verdict on each run file."""

from __future__ import annotations

import json

from curvebench.cli.common import add_map_argument, parse_mapping, read_runs
from curvebench.detectors import get_detector


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "diagnose",
        help="diagnose run files (CSV, trainer_state.json, Lightning or Keras CSV logs, .parquet, suite folders)",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--detector", default="rules", help="detector name or module:Class (default: rules)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a report")
    add_map_argument(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    mapping = parse_mapping(args.map)
    detector = get_detector(args.detector)
    results = []
    for path, runs in [item for p in args.paths for item in read_runs(p, mapping)]:
        for run in runs:
            diagnosis = detector.diagnose(run)
            name = run.meta.get("file") or (f"{path}#{run.run_id}" if len(runs) > 1 else path)
            results.append({"file": name, **diagnosis.to_dict()})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n\n".join(format_result(r) for r in results))
    return 0


def format_result(result: dict) -> str:
    """A few readable lines for one diagnosis."""
    label = result["label"]
    p = result["probabilities"].get(label)
    confidence = f" (p={p:.2f})" if p is not None and label in result["probabilities"] else ""
    onset = "" if result["onset_step"] is None else f", raised at step {result['onset_step']}"
    lines = [f"{result['file']}: {label}{confidence}{onset}"]
    lines += [f"  - {item}" for item in result["evidence"]]
    lines.append(f"  fix: {result['recommendation']}")
    return "\n".join(lines)
