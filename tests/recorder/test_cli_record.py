"""``curvebench record``: a small recording (2 tasks x 5 labels x 2 seeds) through the command module."""

import argparse
import json

import pytest

from curvebench.cli import UsageError
from curvebench.cli import record as record_command


def _parse(argv):
    parser = argparse.ArgumentParser(prog="curvebench")
    record_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["record", *argv])


def test_small_recording_on_cpu_keeps_only_verified_runs(tmp_path, capsys):
    """The CI-sized recording (2 tasks x 5 labels x 2 seeds); its time shows in pytest's --durations."""
    pytest.importorskip("torch")
    from curvebench.datasets import read_parquet
    from curvebench.datasets.recorder.verify import verify_run

    args = _parse(["--task", "diabetes_mlp,digits_mlp", "--label", "all", "--seeds", "0:2", "--device", "cpu",
                   "--out", str(tmp_path), "--quiet"])
    assert args.handler(args) == 0
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert len(rows) == 10 and all(row["attempted"] == 2 for row in rows)
    runs = read_parquet(tmp_path / "runs.parquet")
    assert len(runs) == sum(row["kept"] for row in rows) > 0
    for run in runs:
        assert verify_run(run, run.meta["cause"]["label"]).passed
        assert run.meta["device"] == "cpu" and run.meta["source"] == "recorded"
    assert "verified runs" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "mnist"], "unknown task 'mnist'"),
        (["--label", "broken"], "unknown label 'broken'"),
        (["--seeds", "a:b"], "--seeds expects START:STOP"),
        (["--seeds", "5:5"], "at least one"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, tmp_path):
    base = {"--task": "digits_mlp", "--label": "healthy", "--seeds": "0:1"}
    base.update(dict(zip(argv[::2], argv[1::2])))
    args = _parse([*sum(base.items(), ()), "--out", str(tmp_path)])
    with pytest.raises(UsageError, match=message):
        record_command.run(args)


def test_defaults():
    args = _parse(["--task", "charlm", "--label", "plateau", "--out", "x"])
    assert (args.seeds, args.device, args.amp, args.threads) == ("0:20", "auto", None, 1)
