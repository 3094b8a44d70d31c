"""The simulate and practice commands, driven through their own parsers."""

import argparse
import io
import sys

import pytest

from curvebench.cli import UsageError
from curvebench.cli import practice as practice_cli
from curvebench.cli import simulate as simulate_cli
from curvebench.datasets.suite import read_suite
from curvebench.simulator.practice import parse_answer, play


def parse(*argv):
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    simulate_cli.add_parser(commands)
    practice_cli.add_parser(commands)
    return parser.parse_args(list(argv))


def test_simulate_writes_a_labeled_suite_with_plots(tmp_path, capsys):
    out = tmp_path / "suite"
    args = parse("simulate", "--label", "overfit", "--n", "3", "--seed", "0", "--steps", "300", "--out", str(out),
                 "--plots")
    assert args.handler(args) == 0
    runs = read_suite(out)
    assert runs.labels == ["overfit"] * 3
    assert all(run.onset_step is not None and run.mode == "overfit/memorization" for run in runs)
    assert sorted(p.name for p in (out / "plots").iterdir()) == [f"{run.run_id}.png" for run in runs]
    assert "wrote 3 runs (3 overfit)" in capsys.readouterr().out


def test_simulate_same_seed_same_files_and_modes_set_labels(tmp_path):
    for name in ("a", "b"):
        args = parse("simulate", "--mode", "lr_high/nan", "--mode", "plateau/stuck", "--n", "4", "--seed", "3",
                     "--steps", "200", "--out", str(tmp_path / name))
        args.handler(args)
    a, b = read_suite(tmp_path / "a"), read_suite(tmp_path / "b")
    assert [r.channels for r in a] == [r.channels for r in b]
    assert [r.mode for r in a] == ["lr_high/nan", "plateau/stuck"] * 2


def test_simulate_refuses_bad_arguments(tmp_path):
    with pytest.raises(KeyError, match="did you mean"):
        args = parse("simulate", "--label", "overfitt", "--out", str(tmp_path / "x"))
        args.handler(args)
    with pytest.raises(UsageError, match="severity"):
        args = parse("simulate", "--severity", "3", "--out", str(tmp_path / "x"))
        args.handler(args)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other.txt").write_text("x")
    with pytest.raises(UsageError, match="overwrite"):
        args = parse("simulate", "--n", "1", "--steps", "100", "--out", str(tmp_path / "full"))
        args.handler(args)


def test_practice_reads_answers_from_stdin_and_keeps_score(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\nnonsense\n2\nq\n"))
    args = parse("practice", "--n", "3", "--seed", "1", "--out", str(tmp_path / "png"))
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert out.count("=== Round") == 3
    assert "'nonsense' is not a label" in out
    assert "Final score: " in out and "/2" in out.splitlines()[-1]
    assert len(list((tmp_path / "png").iterdir())) == 3


def test_practice_reveals_truth_onset_evidence_and_fix():
    out = io.StringIO()
    score = play(2, seed=4, answers=io.StringIO("lr_high\nlr_high\n"), out=out, labels=["lr_high", "plateau"])
    text = out.getvalue()
    assert score.asked == 2 and score.correct == 1
    assert "Onset: step" in text and "Fix: " in text and "No: it is plateau" in text
    assert parse_answer("5") == "plateau" and parse_answer("lr") is None


def test_simulate_reports_the_realism_check_against_a_suite(tmp_path, capsys):
    real = tmp_path / "real"
    args = parse("simulate", "--label", "lr_low", "--n", "12", "--seed", "5", "--steps", "150", "--out", str(real))
    args.handler(args)
    capsys.readouterr()
    args = parse("simulate", "--realism", str(real), "--seed", "1")
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "lr_low   AUC " in out and "(12 real, 12 simulated)" in out
    args = parse("simulate", "--realism", str(real), "--seeds", "1,2")
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "mean over seeds 1, 2" in out and "(12 real, 12 simulated)" in out
    for bad in (["--seeds", "1:x", "--realism", str(real)], ["--seeds", "0:2", "--out", str(tmp_path / "x")]):
        args = parse("simulate", *bad)
        with pytest.raises(UsageError, match="--seeds"):
            args.handler(args)


def test_simulate_reports_the_realism_check_per_mode_named_by_the_verification_rules(tmp_path, capsys):
    real = tmp_path / "real"
    args = parse("simulate", "--label", "plateau", "--n", "24", "--seed", "6", "--steps", "200", "--out", str(real))
    args.handler(args)
    capsys.readouterr()
    args = parse("simulate", "--realism", str(real), "--by-mode", "--seed", "1")
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "named from its numbers by the recorder's verification rules" in out
    assert "  plateau: real " in out and "; simulated " in out
    args = parse("simulate", "--by-mode", "--out", str(tmp_path / "x"))
    with pytest.raises(UsageError, match="--by-mode needs --realism"):
        args.handler(args)


def test_simulate_names_what_gives_simulated_runs_away_within_each_task_family(tmp_path, capsys):
    from curvebench.datasets.parquet import write_parquet
    from curvebench.simulator import simulate_many

    runs = simulate_many(24, labels=["lr_low"], seed=8, steps=200)
    for i, run in enumerate(runs):
        run.meta["task"] = f"family{i % 3}"
    write_parquet(runs, tmp_path / "real.parquet")
    args = parse("simulate", "--realism", str(tmp_path / "real.parquet"), "--by-family", "--seed", "1")
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "within task families" in out and "  lr_low\n" in out
    assert all(f"family{i} " in out for i in range(3))
    for bad, message in ((["--by-family", "--out", str(tmp_path / "x")], "--by-family needs --realism"),
                         (["--realism", str(tmp_path / "real.parquet"), "--by-family", "--by-mode"], "not --by-mode")):
        args = parse("simulate", *bad)
        with pytest.raises(UsageError, match=message):
            args.handler(args)
