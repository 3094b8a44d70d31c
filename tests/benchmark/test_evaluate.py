"""evaluate(): every detector on every run, scored; format_report(): the same numbers as text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate, format_report
from curvebench.benchmark.metrics import COLUMNS
from curvebench.detectors import Detector, Diagnosis, RulesDetector
from curvebench.run import INSUFFICIENT_DATA, Run, RunSet


class Scripted(Detector):
    """Streams the label coded (an index into COLUMNS) in the run's channel named after it, from its first step."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__()

    def _reset(self) -> None:
        self._onset = None

    def update(self, step, **metrics):
        code = metrics.get(self.name)
        if code is None:
            return None
        label = COLUMNS[int(code)]
        if label == INSUFFICIENT_DATA:
            return Diagnosis.insufficient(1, 10)
        if label != "healthy" and self._onset is None:
            self._onset = step
        return Diagnosis.certain(label, onset_step=self._onset)


def _answer(label: str, onset: int | None) -> list[float | None]:
    start = onset or 0
    return [None if step < start else float(COLUMNS.index(label)) for step in range(STEPS)]


STEPS = 200


def suite() -> RunSet:
    rows = [  # run_id, label, onset, oracle answer, late answer
        ("a", "healthy", None, ("healthy", None), ("lr_low", 40)),
        ("b", "healthy", None, ("healthy", None), (INSUFFICIENT_DATA, None)),
        ("c", "lr_high", 100, ("lr_high", 100), ("lr_high", 130)),
        ("d", "plateau", 50, ("plateau", 50), ("plateau", 60)),
        ("e", "overfit", 70, ("overfit", 70), ("healthy", None)),
    ]
    return RunSet(
        Run.from_columns(
            range(STEPS), train_loss=[1.0] * STEPS, label=label, onset_step=onset, run_id=run_id,
            oracle=_answer(*oracle), late=_answer(*late),
        )
        for run_id, label, onset, oracle, late in rows
    )


def test_scores_each_detector_on_each_run():
    result = evaluate({"oracle": Scripted("oracle"), "late": Scripted("late")}, suite())
    assert result["n_runs"] == 5
    oracle, late = result["detectors"]["oracle"], result["detectors"]["late"]
    assert oracle["macro_f1"] == 1.0 and oracle["false_alarm_rate"] == 0.0 and oracle["median_delay"] == 0.0
    # late: healthy tp 0/pred 1/support 2; lr_high 1/1/1; plateau 1/1/1; overfit 0/0/1; lr_low 0/1/0
    assert late["per_class"]["healthy"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert late["per_class"]["lr_low"]["precision"] == 0.0
    assert late["macro_f1"] == pytest.approx((0 + 1 + 1 + 0 + 0) / 5)
    assert late["false_alarm_rate"] == 0.5
    assert late["median_delay"] == 20.0  # delays 30 (lr_high) and 10 (plateau)
    assert late["confusion"]["healthy"][INSUFFICIENT_DATA] == 1
    keys = ("run_id", "label", "predicted", "onset_step", "predicted_onset")
    assert {k: late["predictions"][0][k] for k in keys} == {
        "run_id": "a", "label": "healthy", "predicted": "lr_low", "onset_step": None, "predicted_onset": 40
    }
    assert [p["run_id"] for p in late["predictions"]] == ["a", "b", "c", "d", "e"]
    assert json.loads(json.dumps(result)) == result


def test_unlabeled_runs_are_an_error_naming_them():
    unlabeled = [Run.from_columns([0], train_loss=[1.0], run_id="mystery"), Run.from_columns([0], train_loss=[1.0])]
    runs = suite() + RunSet(unlabeled)
    with pytest.raises(ValueError, match="unlabeled: mystery, #6"):
        evaluate([RulesDetector()], runs)


def test_a_list_of_detectors_is_named_by_their_names():
    assert list(evaluate([RulesDetector()], suite())["detectors"]) == ["rules"]
    with pytest.raises(ValueError, match="unique.*rules"):
        evaluate([RulesDetector(), RulesDetector(window=0.3)], suite())


def test_report_shows_the_same_numbers():
    result = evaluate({"late": Scripted("late")}, suite())
    report = format_report(result)
    assert report.startswith("5 runs")
    assert "detector: late" in report
    assert "macro-F1 0.400   false alarm rate 0.500   median delay 20 steps" in report
    assert "  plateau                1.000     1.000     1.000         1" in report
    header = next(line for line in report.splitlines() if "insuff." in line).split()
    assert header == ["healthy", "lr_high", "lr_low", "overfit", "plateau", "insuff."]
    rows = [line.split() for line in report.splitlines()]
    assert ["healthy", "0", "0", "1", "0", "0", "1"] in rows


def test_rules_on_a_small_generated_suite():
    t = np.arange(300)
    runs = RunSet(
        [
            Run.from_columns(t, train_loss=0.3 + 2 * np.exp(-t / 60), label="healthy", run_id="h"),
            Run.from_columns(t, train_loss=np.where(t < 200, 2.0, np.nan), label="lr_high", onset_step=190, run_id="x"),
            Run.from_columns(t, train_loss=2.3 - 0.1 * t / 300, label="lr_low", onset_step=0, run_id="s"),
        ]
    )
    scores = evaluate([RulesDetector()], runs)["detectors"]["rules"]
    assert [p["predicted"] for p in scores["predictions"]] == ["healthy", "lr_high", "lr_low"]
    assert scores["macro_f1"] == 1.0
    assert scores["median_delay"] == 9.5  # lr_high raised at the NaN (+10), lr_low at the 10th point (+9)
