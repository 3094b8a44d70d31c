"""`curvebench train` rebuilds a sequence detector's parameters, the same bytes for the same seed."""

from curvebench.cli import main


def test_training_minirocket_twice_gives_identical_files(tmp_path):
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (first, second):
        assert main(["train", "--detector", "minirocket", "--n-simulated", "10", "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_a_rule_based_detector_has_nothing_to_train(capsys):
    assert main(["train", "--detector", "rules"]) == 2
    assert "not a learned detector" in capsys.readouterr().err
