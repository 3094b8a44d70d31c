"""Score detectors on a labeled RunSet: ``evaluate`` gives a JSON-ready dict, ``format_report`` a text table.

>>> import numpy as np
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run, RunSet
>>> t = np.arange(200)
>>> runs = RunSet([
...     Run.from_columns(t, train_loss=0.3 + 2 * np.exp(-t / 50), label="healthy", run_id="a"),
...     Run.from_columns(t, train_loss=np.where(t < 120, 2.0, np.nan), label="lr_high", onset_step=115, run_id="b"),
... ])
>>> result = evaluate([RulesDetector()], runs)
>>> result["detectors"]["rules"]["macro_f1"], result["detectors"]["rules"]["median_delay"]
(1.0, 5.0)
>>> result["detectors"]["rules"]["predictions"][1]
{'run_id': 'b', 'label': 'lr_high', 'predicted': 'lr_high', 'onset_step': 115, 'predicted_onset': 120}
"""

from __future__ import annotations

from typing import Mapping, Sequence

from curvebench.benchmark.metrics import COLUMNS, scores
from curvebench.detectors.base import Detector
from curvebench.run import LABELS, UNKNOWN, RunSet


def evaluate(detectors: Mapping[str, Detector] | Sequence[Detector], runs: RunSet) -> dict:
    """Each detector's verdict on each run, and the scores of those verdicts.

    ``detectors`` is ``{name: detector}`` or a list (named by their ``name``, which must then be
    unique). Every run must be labeled: unlabeled runs raise ``ValueError`` naming them.
    """
    named = _named(detectors)
    unlabeled = [_run_id(run, i) for i, run in enumerate(runs) if run.label == UNKNOWN]
    if unlabeled:
        raise ValueError(f"every run in a suite must be labeled; unlabeled: {', '.join(unlabeled)}")
    true = [run.label for run in runs]
    true_onsets = [run.onset_step for run in runs]
    result: dict = {"n_runs": len(runs), "detectors": {}}
    for name, detector in named.items():
        diagnoses = [detector.diagnose(run) for run in runs]
        predicted = [d.label for d in diagnoses]
        predicted_onsets = [d.onset_step for d in diagnoses]
        s = scores(true, predicted, true_onsets, predicted_onsets)
        result["detectors"][name] = {
            "macro_f1": s["macro_f1"],
            "per_class": s["per_class"],
            "confusion": s["confusion"],
            "false_alarm_rate": s["false_alarm_rate"],
            "median_delay": s["median_delay"],
            "predictions": [
                {
                    "run_id": _run_id(run, i),
                    "label": run.label,
                    "predicted": d.label,
                    "onset_step": run.onset_step,
                    "predicted_onset": d.onset_step,
                }
                for i, (run, d) in enumerate(zip(runs, diagnoses))
            ],
        }
    return result


def format_report(result: dict) -> str:
    """A readable text report of :func:`evaluate`'s result, one block per detector."""
    blocks = [f"{result['n_runs']} runs"]
    for name, s in result["detectors"].items():
        delay = "n/a" if s["median_delay"] is None else f"{s['median_delay']:g} steps"
        lines = [
            f"detector: {name}",
            f"  {'class':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
        ]
        for label in LABELS:
            c = s["per_class"][label]
            lines.append(
                f"  {label:<18}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>10d}"
            )
        lines += [
            f"  macro-F1 {s['macro_f1']:.3f}   false alarm rate {s['false_alarm_rate']:.3f}   median delay {delay}",
            "  confusion (rows: true, columns: predicted)",
            "  " + f"{'':<10}" + "".join(f"{_short(c):>10}" for c in COLUMNS),
        ]
        for row in LABELS:
            lines.append("  " + f"{row:<10}" + "".join(f"{s['confusion'][row][c]:>10d}" for c in COLUMNS))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _short(column: str) -> str:
    return "insuff." if column == "insufficient_data" else column


def _named(detectors: Mapping[str, Detector] | Sequence[Detector]) -> dict[str, Detector]:
    if isinstance(detectors, Mapping):
        return dict(detectors)
    names = [d.name for d in detectors]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"detector names must be unique; pass a dict to name them: {', '.join(repeated)}")
    return dict(zip(names, detectors))


def _run_id(run, index: int) -> str:
    return run.run_id or f"#{index}"
