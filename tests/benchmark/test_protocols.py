"""Protocols: learned detectors fitted per held-out task family or on simulated runs only, then scored."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from curvebench.benchmark.evaluate import evaluate
from curvebench.benchmark.protocols import Protocol, evaluate_protocol, families
from curvebench.cli import main
from curvebench.datasets import write_parquet
from curvebench.detectors import RulesDetector, get_detector
from curvebench.run import LABELS, Run, RunSet


@pytest.fixture(autouse=True)
def user_module_on_path(monkeypatch):
    monkeypatch.syspath_prepend(os.path.dirname(__file__))


@pytest.fixture
def majority():
    from my_detectors import Majority

    Majority.FITS.clear()
    return Majority


def family_suite() -> RunSet:
    """Family a: three healthy runs; families b and c: two diverging (lr_high) runs each."""
    t = np.arange(80)
    decay = 0.3 + 2 * np.exp(-t / 20)
    runs = []
    for family, label, count in (("a", "healthy", 3), ("b", "lr_high", 2), ("c", "lr_high", 2)):
        for k in range(count):
            loss = decay if label == "healthy" else np.where(t < 50 + k, decay, np.nan)
            runs.append(Run.from_columns(t, train_loss=loss, label=label, onset_step=None if label == "healthy"
                                         else 50 + k, meta={"task": family}, run_id=f"{family}{k}"))
    return RunSet(runs)


def test_family_split_never_trains_on_the_held_out_family(majority):
    result = evaluate_protocol([majority()], family_suite(), Protocol("family-split"), n_resamples=10)
    folds = result["protocol"]["folds"]
    assert [(f["family"], f["n_train"], f["n_test"]) for f in folds] == [("a", 4, 3), ("b", 5, 2), ("c", 5, 2)]
    assert majority.FITS == [["b", "c"], ["a", "c"], ["a", "b"]]
    # fold a learns lr_high from b and c; folds b and c learn healthy (3 of 5): every prediction is wrong
    scores = result["detectors"]["majority"]
    assert scores["fitted"] is True
    assert [p["predicted"] for p in scores["predictions"]] == ["lr_high"] * 3 + ["healthy"] * 4
    assert [(f["family"], f["n_runs"], f["macro_f1"]) for f in scores["folds"]] == [
        ("a", 3, 0.0), ("b", 2, 0.0), ("c", 2, 0.0)]
    assert scores["macro_f1"] == 0.0 and set(scores["folds"][0]) >= {"fit_seconds"}


def test_a_detector_that_does_not_learn_scores_as_shipped():
    runs = family_suite()
    shipped = evaluate([RulesDetector()], runs, n_resamples=10)["detectors"]["rules"]
    split = evaluate_protocol([RulesDetector()], runs, Protocol("family-split"), n_resamples=10)["detectors"]["rules"]
    assert split.pop("fitted") is False and len(split.pop("folds")) == 3
    for volatile in ("us_per_update",):
        shipped.pop(volatile), split.pop(volatile)
    assert split == shipped


def test_sim_to_real_fits_on_simulated_runs_only_and_leaves_the_given_detector_alone(majority):
    given = majority()
    result = evaluate_protocol({"m": given}, family_suite(), Protocol("sim-to-real", train_sim=2, train_seed=3),
                               n_resamples=10)
    assert majority.FITS == [[None]]  # simulated runs carry no task family
    assert given.label_ == "healthy"  # a fitted copy was scored, not the caller's detector
    protocol = result["protocol"]
    assert (protocol["name"], protocol["train_sim"], protocol["train_seed"], protocol["folds"]) == (
        "sim-to-real", 2, 3, [])
    assert "simulate_many(2, seed=3)" in protocol["description"]
    assert result["detectors"]["m"]["fitted"] and result["detectors"]["m"]["fit_seconds"] >= 0


def test_family_split_adds_simulated_runs_to_every_fold(majority):
    evaluate_protocol([majority()], family_suite(), Protocol("family-split", train_sim=2), n_resamples=10)
    assert majority.FITS == [[None, "b", "c"], [None, "a", "c"], [None, "a", "b"]]


def test_runs_without_a_family_are_named():
    runs = family_suite() + RunSet([Run.from_columns([0, 1], train_loss=[1.0, 0.5], label="healthy", run_id="lost")])
    with pytest.raises(ValueError, match=r"meta\['task'\]; missing in lost"):
        families(runs)


@pytest.mark.parametrize("bad", [dict(name="k-fold"), dict(name="sim-to-real"), dict(train_sim=-1)])
def test_bad_protocols_are_refused(bad):
    with pytest.raises(ValueError):
        Protocol(**bad)


def test_cli_runs_a_users_detector_under_both_protocols(tmp_path, capsys, majority):
    suite = str(tmp_path / "families.parquet")
    write_parquet(family_suite(), suite)
    out = tmp_path / "out"
    code = main(["evaluate", "--suite", suite, "--detector", "my_detectors:Majority", "--detector", "rules",
                 "--protocol", "shipped", "--protocol", "family-split", "--protocol", "sim-to-real", "--train-sim", "2",
                 "--resamples", "10", "--jobs", "1", "--quiet", "--out", str(out)])
    assert code == 0
    assert "suite: " + suite + " [family-split]" in capsys.readouterr().out
    result = json.loads((out / "results.json").read_text())
    assert result["suites"][suite]["protocol"]["train_sim"] == 0  # shipped: nothing trained
    split, sim = result["suites"][f"{suite} [family-split]"], result["suites"][f"{suite} [sim-to-real]"]
    assert split["suite"] == sim["suite"] == suite
    assert (split["protocol"]["train_sim"], sim["protocol"]["name"]) == (2, "sim-to-real")
    assert [f["family"] for f in split["detectors"]["my_detectors:Majority"]["folds"]] == ["a", "b", "c"]
    assert split["detectors"]["rules"]["fitted"] is False
    assert majority.FITS[:3] == [[None, "b", "c"], [None, "a", "c"], [None, "a", "b"]]
    board = (out / "leaderboard.md").read_text()
    assert "--protocol shipped --protocol family-split --protocol sim-to-real --train-sim 2" in board
    assert "simulate_many(2, seed=0)" in board and "| a | b | c |" in board


def test_cli_family_split_on_a_suite_without_families_exits_2(tmp_path, capsys):
    suite = str(tmp_path / "plain.parquet")
    write_parquet(RunSet([Run.from_columns([0, 1], train_loss=[1.0, 0.5], label="healthy", run_id="r")]), suite)
    assert main(["evaluate", "--suite", suite, "--detector", "rules", "--protocol", "family-split",
                 "--jobs", "1", "--quiet"]) == 2
    assert "meta['task']" in capsys.readouterr().err


def varied_suite() -> RunSet:
    """One run of each label in each of the families a, b and c (120 steps; lr, grad norm, val loss every 10)."""
    rng = np.random.default_rng(5)
    t = np.arange(120)
    runs = []
    for family in "abc":
        for label in LABELS:
            train = (0.3 + 2 * np.exp(-t / 30)) * rng.lognormal(0, 0.03, t.size)
            val = train * 1.05
            onset = None if label == "healthy" else 60
            if label == "lr_high":
                train[60:] = np.nan
            elif label == "plateau":
                train[60:] = train[60]
            elif label == "lr_low":
                onset, train = 0, 2.3 - 0.1 * t / t.size
                val = train * 1.05
            elif label == "overfit":
                val[60:] = val[60] * (1 + 0.01 * (t[60:] - 60))
            grad = 5 * train * rng.lognormal(0, 0.1, t.size)
            runs.append(Run.from_columns(t, train_loss=train, val_loss=np.where(t % 10 == 9, val, np.nan),
                                         grad_norm=grad, lr=np.full(t.size, 0.01),
                                         label=label, onset_step=onset, meta={"task": family},
                                         run_id=f"{family}-{label}"))
    return RunSet(runs)


def test_a_shipped_learned_detector_is_refitted_per_fold_and_keeps_its_own_parameters():
    shipped = get_detector("features")
    before = shipped.model_
    result = evaluate_protocol({"features": shipped}, varied_suite(), Protocol("family-split"), n_resamples=10)
    scores = result["detectors"]["features"]
    assert scores["fitted"] and [f["family"] for f in scores["folds"]] == ["a", "b", "c"]
    assert len(scores["predictions"]) == 15 and 0.0 <= scores["macro_f1"] <= 1.0
    assert shipped.model_ is before


def test_a_fit_that_fails_names_the_detector_and_the_fold():
    class Picky(RulesDetector):
        name = "picky"

        def fit(self, runs):
            if "a" not in {run.meta["task"] for run in runs}:
                raise ValueError("the training runs must cover every label")
            return self

    with pytest.raises(ValueError, match="family-split: fitting picky on 4 runs with family 'a' held out failed"):
        evaluate_protocol([Picky()], family_suite(), Protocol("family-split"), n_resamples=10)
