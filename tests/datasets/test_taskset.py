"""TaskSet files (``releaunifreiburg/DPL``'s gzipped JSON): runs labeled by the written rules, bad files named."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.benchmark.suites import load_suite
from curvebench.datasets.taskset import is_taskset, labeled_suite, read_taskset
from curvebench.errors import InputError

SHARED = Path("/work/shared/data/taskset")
if not SHARED.is_dir():
    SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "taskset"


def write(path, entries):
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(entries, handle)
    return path


def entry(train, valid=None, lr=1e-3):
    out = {"hp": {"learning_rate": lr}, "train": {"loss": train}}
    if valid is not None:
        out["valid"] = {"loss": valid}
    return out


def test_a_folder_of_taskset_files_reads_every_run_with_its_task_and_the_rules_label(tmp_path):
    falling = list(0.7 * np.exp(-np.arange(51) / 8) + 0.05)
    write(tmp_path / "TaskA.json.gz", [entry(falling, falling), entry([0.69] * 51)])
    write(tmp_path / "TaskB.json.gz", [entry([0.7, 50.0] + [float("nan")] * 49)])
    assert is_taskset(tmp_path) and is_taskset(tmp_path / "TaskA.json.gz")
    runs = read_taskset(tmp_path)
    assert [(run.meta["task"], run.mode) for run in runs] == [
        ("TaskA", "healthy/converging"), ("TaskA", "plateau/stuck"), ("TaskB", "lr_high/nan")]
    assert runs[2].onset_step == 2 and np.isnan(runs[2].channel("train_loss").values[2:]).all()
    assert runs[0].channel("val_loss").steps.tolist() == list(range(51))


def test_a_run_no_rule_names_is_unknown_and_a_suite_leaves_it_out_saying_so(tmp_path, capsys):
    rising_slowly = list(np.linspace(0.7, 0.9, 51))  # up 29%: not flat, not a fall, under the 1.5x climb
    path = write(tmp_path / "Task.json.gz", [entry(rising_slowly), entry([0.69] * 51)])
    assert [run.label for run in read_taskset(path)] == ["unknown", "plateau"]
    suite, left_out = labeled_suite(path)
    assert len(suite) == 1 and left_out == 1
    assert load_suite(str(path)).labels == ["plateau"]
    assert "1 of 2 TaskSet runs match no verification rule" in capsys.readouterr().err


@pytest.mark.parametrize("content, words, line", [
    (b"not gzip at all", "expected a gzipped JSON TaskSet file", None),
    (gzip.compress(b'[{"train": {"loss": [1.0,\n oops]}}]'), "expected JSON", 2),
    (gzip.compress(b'{"train": {}}'), "expected a JSON list of runs", None),
    (gzip.compress(b'[{"hp": {}}]'), "expected run 0 to be an object with a 'train' object", None),
    (gzip.compress(b'[{"train": {"loss": [1.0]}}, {"train": {"loss": ["a"]}}]'),
     "expected run 1's 'train' to hold a 'loss' list of numbers or null", None),
])
def test_a_bad_taskset_file_is_an_input_error_naming_the_file_and_what_was_expected(tmp_path, content, words, line):
    path = tmp_path / "Bad.json.gz"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_taskset(path)
    assert caught.value.path == str(path) and words in str(caught.value) and caught.value.line == line


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_infinity=True, allow_nan=False, width=64)), min_size=1,
                max_size=60))
def test_every_loss_is_kept_exactly_and_null_is_nan(tmp_path_factory, losses):
    path = write(tmp_path_factory.mktemp("ts") / "T.json.gz", [entry(losses)])
    values = read_taskset(path)[0].channel("train_loss").values
    expected = np.array([np.nan if v is None else v for v in losses], dtype=np.float64)
    assert np.array_equal(values, expected, equal_nan=True)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared TaskSet files not available")
def test_the_shared_taskset_sweeps_read_as_3000_runs_of_three_tasks_most_named_by_a_rule():
    runs = read_taskset(SHARED)
    assert len(runs) == 3000 and len({run.meta["task"] for run in runs}) == 3
    labels = runs.labels
    assert labels.count("unknown") < 300
    lr = np.array([run.meta["hp"]["learning_rate"] for run in runs])
    high = np.array([label == "lr_high" for label in labels])
    assert high[lr > 1.0].mean() > 0.8 and high[lr < 1e-4].mean() == 0.0  # the cause shows in the numbers
