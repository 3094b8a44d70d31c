"""One streaming replay per (detector, run): final verdict, first alarm, detection delay, cost."""

from __future__ import annotations

import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate
from curvebench.benchmark.replay import replay
from curvebench.detectors import Detector, Diagnosis, RulesDetector, get_detector
from curvebench.run import Run, RunSet


class Script(Detector):
    """Streams the labels of ``script`` ({first step: label}); the last one holds to the end."""

    name = "scripted"

    def __init__(self, script: dict[int, str]) -> None:
        self.script = script
        super().__init__()

    def _reset(self) -> None:
        self._label = None

    def update(self, step, **metrics):
        self._label = self.script.get(step, self._label)
        return None if self._label is None else Diagnosis.certain(self._label)


class OfflineOnly:
    """A user's detector that is no Detector subclass and never streams: its diagnose is its verdict."""

    name = "offline"

    def reset(self):
        return self

    def update(self, step, **metrics):
        return None

    def diagnose(self, run):
        return Diagnosis.certain("plateau", onset_step=3)


def flat_run(label="plateau", onset=20, n=100, **meta) -> Run:
    return Run.from_columns(np.arange(n), train_loss=np.ones(n), label=label, onset_step=onset, meta=meta)


def test_first_alarm_is_the_first_pathology_right_or_wrong_and_detection_the_first_right_one():
    r = replay(Script({5: "healthy", 10: "lr_low", 30: "plateau"}), flat_run())
    assert r.first_alarm == (10, "lr_low")
    assert r.detection_step("plateau") == 30 and r.detection_step("overfit") is None
    assert r.diagnosis.label == "plateau" and r.n_updates == 100 and r.seconds > 0


def test_delay_is_first_streamed_correct_label_minus_onset_only_when_the_final_verdict_is_right():
    runs = RunSet([flat_run(onset=20), flat_run(onset=20)])
    right = evaluate({"d": Script({10: "lr_low", 30: "plateau"})}, runs)["detectors"]["d"]
    assert right["delays"] == [10, 10]
    assert right["median_delay"] == 10.0 and right["p90_delay"] == 10.0
    assert right["median_delay_fraction"] == 0.1  # 10 steps of a 100-step run
    flickered = evaluate({"d": Script({30: "plateau", 40: "lr_low"})}, runs)["detectors"]["d"]
    assert flickered["delays"] == [] and flickered["median_delay"] is None


def test_a_detector_that_only_diagnoses_offline_keeps_its_own_verdict_and_never_alarms_while_streaming():
    scores = evaluate({"offline": OfflineOnly()}, RunSet([flat_run()]))["detectors"]["offline"]
    prediction = scores["predictions"][0]
    assert prediction["predicted"] == "plateau" and prediction["predicted_onset"] == 3
    assert prediction["first_alarm_step"] is None and scores["median_delay"] is None
    assert scores["nab"]["standard"] == 0.0  # never alarming while streaming scores like silence


@pytest.mark.parametrize("name", ["rules", "stats", "keras", "features", "deepfd"])
def test_the_replayed_final_verdict_is_diagnose(name):
    rng = np.random.default_rng(3)
    t = np.arange(400)
    run = Run.from_columns(t, train_loss=(0.3 + 2 * np.exp(-t / 90)) * rng.lognormal(0, 0.05, t.size),
                           val_loss=[0.5 + 1e-3 * k if k % 20 == 19 else None for k in t])
    detector = get_detector(name)
    assert replay(detector, run).diagnosis.to_dict() == detector.diagnose(run).to_dict()


def test_scores_carry_calibration_overhead_intervals_and_severity():
    runs = RunSet([flat_run(knobs={"severity": 0.5}), flat_run(label="healthy", onset=None)])
    scores = evaluate([RulesDetector()], runs, n_resamples=50)["detectors"]["rules"]
    assert 0.0 <= scores["brier"] <= 2.0 and 0.0 <= scores["ece"] <= 1.0
    assert scores["us_per_update"] > 0
    assert set(scores["nab"]) == {"standard", "reward_low_FP", "reward_low_FN"}
    low, high = scores["ci"]["macro_f1"]
    assert 0.0 <= low <= high <= 1.0
    assert scores["ci"]["recall"]["overfit"] is None
    assert [p["severity"] for p in scores["predictions"]] == [0.5, None]
    assert [p["length"] for p in scores["predictions"]] == [100, 100]
