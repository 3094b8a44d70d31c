"""Regression bars: ``curvebench evaluate --fail-under`` and ``assert_detector_scores``, on a user's detector."""

from __future__ import annotations

import os

import pytest

from curvebench.benchmark.regression import Bar, assert_detector_scores, missed_bars, parse_bar
from curvebench.benchmark.suites import load_suite
from curvebench.cli import main
from curvebench.detectors import get_detector

SUITE = os.path.join(os.path.dirname(__file__), "..", "data", "suite")
USER = "my_detectors:NaNOnly"  # healthy, lr_high right; lr_low, overfit, plateau called healthy: macro-F1 0.28


@pytest.fixture(autouse=True)
def user_module_on_path(monkeypatch):
    monkeypatch.syspath_prepend(os.path.dirname(__file__))


def evaluate_cli(capsys, *bars: str) -> tuple[int, str, str]:
    argv = ["evaluate", "--suite", SUITE, "--detector", USER, "--resamples", "20", "--quiet"]
    for bar in bars:
        argv += ["--fail-under", bar]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_bars_that_hold_exit_0(capsys):
    code, out, err = evaluate_cli(capsys, "recall.lr_high=0.95", "macro_f1=0.25")
    assert code == 0 and err == ""
    assert "detector: my_detectors:NaNOnly" in out


def test_a_missed_bar_exits_1_naming_metric_wanted_and_got(capsys):
    code, _, err = evaluate_cli(capsys, "macro_f1=0.9", "recall.lr_high=0.95")
    assert code == 1
    assert "bar missed: macro_f1: wanted >= 0.9, got 0.28 (my_detectors:NaNOnly on " in err
    assert "recall.lr_high" not in err


@pytest.mark.parametrize(
    "bar, message",
    [
        ("macro_f1", "a bar is METRIC=MINIMUM"),
        ("macro_f1=high", "the minimum must be a number, got 'high'"),
        ("macro_f1=nan", "must be a finite number"),
        ("recal.lr_high=0.9", "unknown metric 'recal.lr_high'; did you mean 'recall.lr_high'?"),
        ("brier=0.1", "unknown metric 'brier'"),  # lower is better: no minimum bar
    ],
)
def test_a_bad_bar_exits_2_before_evaluating(capsys, bar, message):
    code, out, err = evaluate_cli(capsys, bar)
    assert code == 2 and out == ""
    assert message in err and err.startswith("curvebench evaluate: error: --fail-under: ")


def test_the_pytest_helper_passes_with_the_scores_and_fails_naming_the_missed_bars():
    runs = load_suite(SUITE)
    scores = assert_detector_scores(get_detector(USER), runs, **{"recall.lr_high": 0.95})
    assert scores["macro_f1"] == pytest.approx(0.28)
    with pytest.raises(AssertionError) as caught:
        bars = {"recall.lr_high": 0.95, "recall.plateau": 0.5}
        assert_detector_scores(get_detector(USER), runs, macro_f1=0.9, **bars)
    message = str(caught.value)
    assert "macro_f1: wanted >= 0.9, got 0.28" in message and "recall.plateau: wanted >= 0.5, got 0" in message
    assert "recall.lr_high" not in message
    with pytest.raises(ValueError, match="unknown metric 'macro_F1'"):
        assert_detector_scores(get_detector(USER), runs, macro_F1=0.9)


def test_a_score_the_suite_cannot_give_misses_the_bar():
    result = {"n_runs": 1, "detectors": {"d": _scores_without_nab()}}
    [miss] = missed_bars(result, [parse_bar("nab.standard=0")], suite="s")
    assert miss.got is None and str(miss) == "nab.standard: wanted >= 0, got n/a (d on s)"
    assert Bar("macro_f1", 0.5).minimum == 0.5


def _scores_without_nab() -> dict:
    from curvebench.benchmark.evaluate import evaluate
    from curvebench.run import Run, RunSet

    runs = RunSet([Run.from_columns([0, 1], train_loss=[1.0, 1.0], label="healthy")])
    return evaluate([get_detector("rules")], runs, n_resamples=5)["detectors"]["rules"]
