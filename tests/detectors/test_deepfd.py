"""DeepFDDetector (the shared battery runs in test_battery.py): DeepFD's eight statistics, streaming = offline, the shipped forest."""


import numpy as np
from scipy import stats

from curvebench.detectors.base import iter_steps
from curvebench.detectors.deepfd import FEATURE_NAMES, DeepFDDetector, summary_statistics
from curvebench.run import LABELS
from curvebench.simulator import simulate_many

def test_the_eight_statistics_are_deepfds():
    values = np.random.default_rng(0).lognormal(size=50)
    x = summary_statistics({"val_loss": (np.arange(50.0), np.r_[values[:-1], np.nan])})
    v = values[:-1]
    expected = [v.mean(), v.std(), stats.skew(v), np.median(v), v.var(), v.std() / np.sqrt(v.size), v.max(), v.min()]
    start = FEATURE_NAMES.index("val_loss.mean")
    assert np.allclose(x[start:start + 8], expected)
    assert not x[:start].any()  # no train loss given: zeros, as DeepFD's table would hold nothing


def test_offline_diagnose_equals_the_streamed_verdict():
    detector = DeepFDDetector()
    for run in simulate_many(5, seed=515151, steps=200):
        detector.reset()
        last = None
        for step, metrics in iter_steps(run):
            last = detector.update(step, **metrics) or last
        assert detector.diagnose(run).to_dict() == last.to_dict()


def test_shipped_forest_records_its_recipe():
    meta = DeepFDDetector().model_.meta
    assert meta["command"].startswith("curvebench train --detector deepfd --seed ")
    assert meta["features"] == list(FEATURE_NAMES) and meta["labels"] == list(LABELS)
