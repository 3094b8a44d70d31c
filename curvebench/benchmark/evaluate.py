"""Score detectors on labeled runs: ``evaluate`` gives a JSON-ready dict, ``format_report`` a text table.

Each (detector, run) pair is replayed once in streaming mode (:mod:`curvebench.benchmark.replay`);
that one pass gives the final verdict (scored by :func:`~curvebench.benchmark.metrics.scores`), the
alarm timeline and the cost. Per detector the result holds

* ``macro_f1``, ``per_class`` (precision, recall, f1, support), ``confusion``, ``false_alarm_rate``
  (healthy runs whose final verdict is a pathology);
* detection delays, ``delays`` in run order: for each pathological run whose *final* verdict is its
  true label and whose onset is known, the first step at which the *streamed* verdict was that
  label, minus ``onset_step`` (negative when the label showed before the labeled onset);
  ``median_delay`` and ``p90_delay`` in steps, ``median_delay_fraction`` and ``p90_delay_fraction``
  as a fraction of each run's length (last step - first step + 1);
* ``nab``: the early-detection score of the first streamed alarm per NAB profile
  (:mod:`curvebench.benchmark.nab`);
* ``before_nan``: over the lr_high runs that turn non-finite, how many the streamed verdict called
  lr_high strictly before the first NaN/inf, and the median lead in steps
  (:mod:`curvebench.benchmark.foresight`);
* ``brier`` and ``ece`` of the final probabilities (:mod:`curvebench.benchmark.calibration`);
* ``us_per_update``: microseconds per ``update`` over the whole replay (a measurement: the one
  figure that differs from one evaluation to the next);
* ``ci``: bootstrap 95% intervals for ``macro_f1`` and each class's recall
  (:mod:`curvebench.benchmark.bootstrap`, seeded);
* ``predictions``: one record per run (ids, true and final labels and onsets, first alarm,
  detection step, length, ``meta["knobs"]["severity"]`` when the run has one, probabilities).

:func:`evaluate_suites` does this for several named suites: ``{"suites": {name: evaluate(...)}}``.

>>> import numpy as np
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run, RunSet
>>> t = np.arange(200)
>>> runs = RunSet([
...     Run.from_columns(t, train_loss=0.3 + 2 * np.exp(-t / 50), label="healthy", run_id="a"),
...     Run.from_columns(t, train_loss=np.where(t < 120, 2.0, np.nan), label="lr_high", onset_step=115, run_id="b"),
... ])
>>> result = evaluate([RulesDetector()], runs)
>>> rules = result["detectors"]["rules"]
>>> rules["macro_f1"], rules["median_delay"], rules["nab"]["standard"]
(1.0, 5.0, -11.07...)
>>> {k: rules["predictions"][1][k] for k in ("predicted", "predicted_onset", "first_alarm_step", "detection_step")}
{'predicted': 'lr_high', 'predicted_onset': 120, 'first_alarm_step': 9, 'detection_step': 120}
"""

from __future__ import annotations

from typing import Mapping, Sequence

from curvebench.benchmark.bootstrap import bootstrap_ci
from curvebench.benchmark.calibration import brier_score, expected_calibration_error
from curvebench.benchmark.foresight import before_nan
from curvebench.benchmark.metrics import COLUMNS, delay_runs, delay_summary, ratio, scores
from curvebench.benchmark.nab import PROFILES, nab_score
from curvebench.benchmark.parallel import replay_all
from curvebench.benchmark.replay import Replay
from curvebench.detectors.base import Detector
from curvebench.run import LABELS, UNKNOWN, Run, RunSet


def evaluate(
    detectors: Mapping[str, Detector] | Sequence[Detector],
    runs: RunSet,
    *,
    jobs: int = 1,
    progress: bool = False,
    desc: str | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    window: float = 0.1,
) -> dict:
    """Each detector's streamed verdicts on each run, and their scores (see the module docstring).

    ``detectors`` is ``{name: detector}`` or a list (named by their ``name``, which must then be
    unique). Every run must be labeled: unlabeled runs raise ``ValueError`` naming them. ``jobs``
    and ``progress`` go to :func:`~curvebench.benchmark.parallel.replay_all`; ``n_resamples`` and
    ``seed`` to the bootstrap; ``window`` is the NAB window as a fraction of a run's length.
    """
    named = named_detectors(detectors)
    check_labeled(runs)
    replays = replay_all(named, runs, jobs=jobs, progress=progress, desc=desc)
    return {
        "n_runs": len(runs),
        "detectors": {
            name: detector_scores(runs, replays[name], n_resamples=n_resamples, seed=seed, window=window)
            for name in named
        },
    }


def check_labeled(runs: Sequence[Run]) -> None:
    """``ValueError`` naming the unlabeled runs, if any (every run of a suite needs its ground truth)."""
    unlabeled = [_run_id(run, i) for i, run in enumerate(runs) if run.label == UNKNOWN]
    if unlabeled:
        raise ValueError(f"every run in a suite must be labeled; unlabeled: {', '.join(unlabeled)}")


def evaluate_suites(
    detectors: Mapping[str, Detector] | Sequence[Detector], suites: Mapping[str, RunSet], **options
) -> dict:
    """:func:`evaluate` on each named suite: ``{"suites": {suite name: result}}``; options as there."""
    return {"suites": {name: evaluate(detectors, runs, desc=name, **options) for name, runs in suites.items()}}


def detector_scores(
    runs: Sequence[Run], replays: Sequence[Replay], *, n_resamples: int = 1000, seed: int = 0, window: float = 0.1
) -> dict:
    """The scores of one detector from its replays of ``runs`` (one per run, in order)."""
    true = [run.label for run in runs]
    predicted = [r.diagnosis.label for r in replays]
    onsets = [run.onset_step for run in runs]
    detections = [r.detection_step(run.label) for run, r in zip(runs, replays)]
    lengths = [run_length(run) for run in runs]
    first_alarms = [r.first_alarm for r in replays]
    alarm_steps = [None if a is None else a[0] for a in first_alarms]
    probabilities = [r.diagnosis.probabilities for r in replays]
    s = scores(true, predicted, onsets, detections)
    delayed = delay_runs(true, predicted, onsets, detections)
    return {
        "macro_f1": s["macro_f1"],
        "per_class": s["per_class"],
        "confusion": s["confusion"],
        "false_alarm_rate": s["false_alarm_rate"],
        "delays": s["delays"],
        **delay_summary(s["delays"], [lengths[i] for i in delayed]),
        "nab": {
            profile: nab_score(true, onsets, lengths, alarm_steps, profile, window) for profile in PROFILES
        },
        "before_nan": before_nan(runs, [r.detection_step("lr_high") for r in replays]),
        "brier": brier_score(true, probabilities),
        "ece": expected_calibration_error(true, probabilities),
        "us_per_update": ratio(1e6 * sum(r.seconds for r in replays), sum(r.n_updates for r in replays)),
        "ci": bootstrap_ci(true, predicted, n_resamples=n_resamples, seed=seed),
        "predictions": [
            {
                "run_id": _run_id(run, i),
                "label": run.label,
                "predicted": r.diagnosis.label,
                "onset_step": run.onset_step,
                "predicted_onset": r.diagnosis.onset_step,
                "first_alarm_step": None if alarm is None else alarm[0],
                "first_alarm_label": None if alarm is None else alarm[1],
                "detection_step": detection,
                "length": length,
                "severity": severity(run),
                "probabilities": {label: r.diagnosis.probabilities.get(label, 0.0) for label in LABELS},
            }
            for i, (run, r, alarm, detection, length) in enumerate(
                zip(runs, replays, first_alarms, detections, lengths)
            )
        ],
    }


def run_length(run: Run) -> int:
    """Steps from a run's first logged step to its last, inclusive (0 for an empty run)."""
    steps = run.steps
    return int(steps[-1] - steps[0] + 1) if steps.size else 0


def severity(run: Run) -> float | None:
    """``run.meta["knobs"]["severity"]`` (simulated runs carry it), else ``None``."""
    knobs = run.meta.get("knobs")
    value = knobs.get("severity") if isinstance(knobs, Mapping) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def format_report(result: dict) -> str:
    """A readable text report of :func:`evaluate`'s result, one block per detector."""
    protocol = result.get("protocol", {"name": "shipped"})
    blocks = [f"{result['n_runs']} runs" + ("" if protocol["name"] == "shipped" else f"; {protocol['description']}")]
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
            f"  {_extras(s)}",
            *([f"  lr_high before the first NaN/inf: {s['before_nan']['flagged_before']} of {s['before_nan']['runs']} "
               f"runs, median lead {s['before_nan']['median_lead']:g} steps"]
              if s["before_nan"]["flagged_before"] else []),
            *(["  macro-F1 per held-out family: " + ", ".join(f"{f['family']} {f['macro_f1']:.3f}" for f in s["folds"])]
              if s.get("folds") else []),
            "  confusion (rows: true, columns: predicted)",
            "  " + f"{'':<10}" + "".join(f"{_short(c):>10}" for c in COLUMNS),
        ]
        for row in LABELS:
            lines.append("  " + f"{row:<10}" + "".join(f"{s['confusion'][row][c]:>10d}" for c in COLUMNS))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _extras(s: dict) -> str:
    def fmt(value, spec=".3f"):
        return "n/a" if value is None else format(value, spec)

    ci = s["ci"]["macro_f1"]
    interval = "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
    return (
        f"macro-F1 95% CI {interval}   p90 delay {fmt(s['p90_delay'], 'g')}   NAB standard "
        f"{fmt(s['nab']['standard'], '.1f')}   Brier {fmt(s['brier'])}   ECE {fmt(s['ece'])}   "
        f"{s['us_per_update']:.1f} us/update"
    )


def _short(column: str) -> str:
    return "insuff." if column == "insufficient_data" else column


def named_detectors(detectors: Mapping[str, Detector] | Sequence[Detector]) -> dict[str, Detector]:
    """``{name: detector}``: a mapping as given, a list named by each detector's (unique) ``name``."""
    if isinstance(detectors, Mapping):
        return dict(detectors)
    names = [d.name for d in detectors]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"detector names must be unique; pass a dict to name them: {', '.join(repeated)}")
    return dict(zip(names, detectors))


def _run_id(run, index: int) -> str:
    return run.run_id or f"#{index}"
