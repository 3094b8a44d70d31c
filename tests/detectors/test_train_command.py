"""`curvebench train` rebuilds learned detectors' parameters, the same bytes for the same seed."""

import functools
import hashlib
import json

import pytest

from curvebench import simulator
from curvebench.cli import main
from curvebench.detectors import available_detectors, get_detector
from curvebench.errors import InputError

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
        assert '"simulator": "curvebench.simulator ' in recipe

    for name in trained:  # the recipe's checksum is checked on loading: a changed byte is refused
        weights = tmp_path / "a" / f"{name}{SAVED[name]}"
        assert json.loads((tmp_path / "a" / f"{name}.json").read_text())["sha256"] == hashlib.sha256(
            weights.read_bytes()).hexdigest()
        get_detector(name, params=str(weights))
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 1
        weights.write_bytes(bytes(data))
        with pytest.raises(InputError, match=f"{weights.name}: detector parameters with sha256"):
            get_detector(name, params=str(weights))


def test_a_rule_based_detector_has_nothing_to_train(capsys):
    assert main(["train", "--detector", "rules"]) == 2
    assert "not a learned detector" in capsys.readouterr().err
