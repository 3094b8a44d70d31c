"""Write an evaluation to a folder: ``leaderboard.md``, ``results.csv``, ``results.json`` and the plots.

All three come from one :func:`~curvebench.benchmark.evaluate.evaluate_suites` result:

* ``results.json``: the whole result, predictions included (``{"suites": {suite: {"n_runs",
  "detectors": {name: scores}}}}``; from the CLI each result also names its ``suite`` and
  ``protocol``: name, training size and seed, family key, folds);
* ``results.csv``: a tidy long table, one row per suite x detector x metric, columns
  ``suite,detector,metric,value`` (metric names of :mod:`curvebench.benchmark.table`, plus
  ``macro_f1.fold.FAMILY`` under family-split; an empty value where the suite gives none);
* ``leaderboard.md``: one table, detectors ranked by macro-F1 within each suite, with the command
  that produced it when given (so a README can show how to regenerate it), then what each
  protocol other than ``shipped`` trained on (:mod:`curvebench.benchmark.protocols`) and, for
  family-split, each held-out family's macro-F1 per detector.

>>> from curvebench.benchmark.evaluate import evaluate_suites
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run, RunSet
>>> runs = RunSet([Run.from_columns(range(50), train_loss=[2.0] * 50, label="lr_low", onset_step=0)])
>>> result = evaluate_suites([RulesDetector()], {"flat": runs}, n_resamples=10)
>>> print(leaderboard_markdown(result).splitlines()[4][:60])
| flat | rules | 1 | 1.000 [1.000, 1.000] | n/a | 9 | -5.3 |
"""

from __future__ import annotations

import csv
import json
import os

from curvebench.benchmark.table import flatten

COLUMNS = (
    "suite",
    "detector",
    "runs",
    "macro-F1 [95% CI]",
    "false-alarm rate",
    "median delay (steps)",
    "NAB standard",
    "Brier",
    "ECE",
    "µs/update",
)


def write_report(
    result: dict, folder: str | os.PathLike, *, command: str | None = None, plots: bool = True
) -> list[str]:
    """Write every output of ``result`` into ``folder`` (created if needed); the paths written."""
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, name) for name in ("results.json", "results.csv", "leaderboard.md")]
    with open(paths[0], "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    with open(paths[1], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("suite", "detector", "metric", "value"))
        writer.writerows((*row[:3], "" if row[3] is None else repr(row[3])) for row in rows(result))
    with open(paths[2], "w", encoding="utf-8") as handle:
        handle.write(leaderboard_markdown(result, command=command))
    if plots:
        from curvebench.benchmark.plots import write_plots

        paths += write_plots(result, folder)
    return paths


def rows(result: dict) -> list[tuple[str, str, str, float | None]]:
    """``(suite, detector, metric, value)`` for every flat metric of every detector on every suite."""
    return [
        (suite, detector, metric, value)
        for suite, suite_result in result["suites"].items()
        for detector, scores in suite_result["detectors"].items()
        for metric, value in [*flatten(scores).items(), *_fold_metrics(scores)]
    ]


def _fold_metrics(scores: dict) -> list[tuple[str, float]]:
    return [(f"macro_f1.fold.{fold['family']}", fold["macro_f1"]) for fold in scores.get("folds", [])]


def leaderboard_markdown(result: dict, *, command: str | None = None) -> str:
    """The leaderboard as a Markdown table (see the module docstring)."""
    lines = ["# Leaderboard", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for suite, suite_result in result["suites"].items():
        ranked = sorted(suite_result["detectors"].items(), key=lambda item: (-item[1]["macro_f1"], item[0]))
        for detector, s in ranked:
            ci = s["ci"]["macro_f1"]
            interval = "" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            cells = (
                suite,
                detector,
                str(suite_result["n_runs"]),
                f"{s['macro_f1']:.3f}{interval}",
                _number(s["false_alarm_rate"] if s["per_class"]["healthy"]["support"] else None, ".3f"),
                _number(s["median_delay"], "g"),
                _number(s["nab"]["standard"], ".1f"),
                _number(s["brier"], ".3f"),
                _number(s["ece"], ".3f"),
                _number(s["us_per_update"], ".1f"),
            )
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Macro-F1 over the classes present, with a bootstrap 95% interval; false-alarm rate: healthy runs "
        "ending with a pathology verdict; delay: from the labeled onset to the first streamed correct verdict; "
        "NAB: early-detection score of the first streamed alarm (0 never alarms, 100 perfect); Brier and ECE: "
        "calibration of the final probabilities (lower is better); µs/update: streaming cost.",
        "",
    ]
    for suite, suite_result in result["suites"].items():
        lines += _protocol_lines(suite, suite_result)
    return "\n".join(lines)


def _protocol_lines(suite: str, suite_result: dict) -> list[str]:
    """What a protocol trained the learned detectors on and, for family-split, the macro-F1 of each fold."""
    protocol = suite_result.get("protocol")
    if protocol is None or protocol["name"] == "shipped":
        return []
    learned = sorted(name for name, s in suite_result["detectors"].items() if s.get("fitted"))
    lines = [f"`{suite}`: {protocol['description']}. Fitted: {', '.join(learned) or 'none'}; "
             "the others do not learn and are scored as shipped.", ""]
    if protocol["folds"]:
        held = [fold["family"] for fold in protocol["folds"]]
        sizes = ", ".join(f"{f['family']} {f['n_test']}/{f['n_train']}" for f in protocol["folds"])
        lines += [f"Macro-F1 per held-out family (test/training runs: {sizes}):", "",
                  "| detector | " + " | ".join(held) + " |", "|" + "---|" * (len(held) + 1)]
        for name, s in suite_result["detectors"].items():
            lines.append(f"| {name} | " + " | ".join(f"{fold['macro_f1']:.3f}" for fold in s["folds"]) + " |")
        lines.append("")
    return lines


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
