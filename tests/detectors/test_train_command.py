"""`curvebench train` rebuilds learned detectors' parameters, the same bytes for the same seed."""

import functools

from curvebench import simulator
from curvebench.cli import main
from curvebench.detectors import available_detectors

SAVED = {"features": ".npz", "deepfd": ".npz", "minirocket": ".npz", "deep": ".pt"}


def test_training_all_twice_gives_identical_files_with_their_recipe(tmp_path, capsys, monkeypatch):
    short = functools.partial(simulator.simulate_many, steps=200)  # short runs: a fast test
    monkeypatch.setattr("curvebench.simulator.simulate_many", short)
    for folder in ("a", "b"):
        assert main(["train", "--detector", "all", "--n-simulated", "10", "--seed", "1",
                     "--out", str(tmp_path / folder)]) == 0
    printed = capsys.readouterr().out
    trained = [name for name in SAVED if name in available_detectors()]
    assert {"features", "deepfd"} <= set(trained)
    for name in trained:
        assert f"{name}: wrote" in printed
        for suffix in (SAVED[name], ".json"):
            first, second = (tmp_path / folder / f"{name}{suffix}" for folder in ("a", "b"))
            assert first.read_bytes() == second.read_bytes()
        recipe = (tmp_path / "a" / f"{name}.json").read_text()
        assert f"curvebench train --detector {name} --seed 1 --n-simulated 10" in recipe


def test_a_rule_based_detector_has_nothing_to_train(capsys):
    assert main(["train", "--detector", "rules"]) == 2
    assert "not a learned detector" in capsys.readouterr().err
