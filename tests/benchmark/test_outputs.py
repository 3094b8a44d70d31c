"""``curvebench evaluate --out``: leaderboard.md, results.csv, results.json, plots; several suites; --json."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from curvebench.benchmark.evaluate import evaluate
from curvebench.benchmark.plots import _severity
from curvebench.benchmark.suites import register, unregister
from curvebench.cli import main
from curvebench.detectors import available_detectors, get_detector
from curvebench.run import Run, RunSet

SUITE = os.path.join(os.path.dirname(__file__), "..", "data", "suite")


def simulated_like() -> RunSet:
    t = np.arange(120)
    return RunSet(
        Run.from_columns(t, train_loss=np.where(t < 60 + k, 2.0, np.nan), label="lr_high", onset_step=55 + k,
                         meta={"knobs": {"severity": k / 6}}, run_id=f"x{k}")
        for k in range(6)
    )


def test_out_writes_every_output_for_every_detector_and_suite(tmp_path, capsys):
    register("sev-v1", simulated_like)
    try:
        code = main(["evaluate", "--suite", SUITE, "--suite", "sev-v1", "--detector", "all",
                     "--resamples", "20", "--quiet", "--out", str(tmp_path)])
    finally:
        unregister("sev-v1")
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("suite: ") == 2
    files = set(os.listdir(tmp_path))
    assert {"leaderboard.md", "results.csv", "results.json", "confusion-sev-v1.png", "pr-sev-v1.png",
            "delays-sev-v1.png", "severity-sev-v1.png"} <= files
    kinds = ("confusion-", "pr-", "delays-", "severity-")
    # the recorded runs of tests/data/suite carry no severity
    assert [len([f for f in files if f.startswith(kind)]) for kind in kinds] == [2, 2, 2, 1]
    detectors = available_detectors()
    result = json.loads((tmp_path / "results.json").read_text())
    assert set(result["suites"]) == {SUITE, "sev-v1"}
    assert set(result["suites"]["sev-v1"]["detectors"]) == set(detectors)
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert {(r["suite"], r["detector"]) for r in rows} == {(s, d) for s in (SUITE, "sev-v1") for d in detectors}
    rules = {r["metric"]: r["value"] for r in rows if r["suite"] == "sev-v1" and r["detector"] == "rules"}
    per_class = result["suites"]["sev-v1"]["detectors"]["rules"]["per_class"]
    assert float(rules["recall.lr_high"]) == per_class["lr_high"]["recall"]
    assert rules["false_alarm_rate"] == "0.0" and rules["recall.healthy.ci_low"] == ""
    board = (tmp_path / "leaderboard.md").read_text()
    assert "Produced by `curvebench evaluate --suite" in board and "--detector all" in board
    assert sum(line.startswith("| sev-v1 |") for line in board.splitlines()) == len(detectors)


def test_json_keeps_its_shape_for_one_suite_and_nests_several(capsys):
    assert main(["evaluate", "--suite", SUITE, "--detector", "rules", "--json", "--resamples", "20"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert (one["suite"], one["n_runs"], one["protocol"]["name"]) == (SUITE, 5, "shipped")
    rules = one["detectors"]["rules"]
    assert {"macro_f1", "per_class", "confusion", "false_alarm_rate", "median_delay"} <= set(rules)
    assert "predictions" not in rules
    assert main(["evaluate", "--suite", SUITE, "--suite", os.path.join(SUITE, ""), "--detector", "rules", "--json",
                 "--resamples", "20"]) == 0
    several = json.loads(capsys.readouterr().out)
    assert list(several) == ["suites"] and len(several["suites"]) == 2
    first = next(iter(several["suites"].values()))
    assert first["detectors"]["rules"]["macro_f1"] == rules["macro_f1"]


def test_progress_bars_go_to_stderr_only_when_asked(capsys):
    from curvebench.benchmark.evaluate import evaluate_suites
    from curvebench.detectors import get_detector

    runs = simulated_like()
    evaluate_suites({"rules": get_detector("rules")}, {"sev-v1": runs}, progress=True, n_resamples=5)
    out, err = capsys.readouterr()
    assert out == "" and "sev-v1: 100%" in err and "6/6" in err
    evaluate_suites({"rules": get_detector("rules")}, {"sev-v1": runs}, n_resamples=5)
    assert capsys.readouterr().err == ""
    assert main(["evaluate", "--suite", SUITE, "--detector", "rules", "--resamples", "5"]) == 0  # no TTY: no bar
    assert capsys.readouterr().err == ""


def test_an_empty_suite_still_writes_every_output(tmp_path):
    from curvebench.benchmark.evaluate import evaluate_suites
    from curvebench.benchmark.report import write_report
    from curvebench.detectors import get_detector

    result = evaluate_suites({"rules": get_detector("rules")}, {"empty": RunSet()})
    assert len(write_report(result, tmp_path)) == 6
    assert "| empty | rules | 0 | 0.000 | n/a | n/a | n/a | n/a | n/a |" in (tmp_path / "leaderboard.md").read_text()


def test_accuracy_against_severity_is_one_panel_per_detector():
    names = ("rules", "stats", "umlaut")
    result = evaluate({name: get_detector(name) for name in names}, simulated_like(), n_resamples=5)
    figure = _severity(result["detectors"])
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(names)
    assert all(ax.get_xlabel() == "severity" and ax.lines for ax in panels)


def test_plain_evaluate_scores_every_registered_detector_on_every_registered_suite(monkeypatch, capsys):
    import curvebench.cli.evaluate as command

    register("sev-v1", simulated_like)
    monkeypatch.setattr(command, "available_suites", lambda: ["sev-v1"])
    try:
        assert main(["evaluate", "--json", "--resamples", "5"]) == 0
    finally:
        unregister("sev-v1")
    result = json.loads(capsys.readouterr().out)
    assert result["suite"] == "sev-v1" and set(result["detectors"]) == set(available_detectors())
