"""Labeled suites: any folder laid out as run files plus labels.csv reads in; write_suite reads back."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from curvebench.datasets import read_suite, write_suite
from curvebench.errors import InputError
from curvebench.run import Channel, Run, RunSet

SUITE = Path(__file__).parent.parent / "data" / "suite"


def test_sample_suite_reads_every_format_with_its_labels():
    runs = read_suite(SUITE)
    assert [run.run_id for run in runs] == [
        "runs/healthy-cosine",
        "runs/lr_high-diverge",
        "hf/bert-overfit/trainer_state",
        "lightning/version_2/metrics",
        "keras/lr_low",
    ]
    assert runs.labels == ["healthy", "lr_high", "overfit", "plateau", "lr_low"]
    assert [run.onset_step for run in runs] == [None, 200, 200, 0, 0]
    assert [run.mode for run in runs] == [None, "lr_high/nan", None, "plateau/chance", None]
    assert [run.meta["format"] for run in runs] == ["csv", "csv", "hf-trainer", "lightning", "keras"]
    assert runs[2].meta["file"] == str(SUITE / "hf" / "bert-overfit" / "trainer_state.json")


def test_sample_suite_keeps_nan_and_inf():
    diverged = read_suite(SUITE)[1].channel("train_loss")
    at = dict(zip(diverged.steps.tolist(), diverged.values.tolist()))
    assert at[225] == 14.484562 and at[230] == math.inf
    assert all(math.isnan(at[step]) for step in range(235, 300, 5))


def test_sample_suite_survives_write_then_read(tmp_path):
    runs = read_suite(SUITE)
    write_suite(runs, tmp_path / "copy")
    back = read_suite(tmp_path / "copy")
    assert [r.channels for r in back] == [r.channels for r in runs]
    for before, after in zip(runs, back):
        assert (after.run_id, after.label, after.mode, after.onset_step) == (
            before.run_id, before.label, before.mode, before.onset_step
        )
        assert after.meta["format"] == "csv"
    assert (tmp_path / "copy" / "hf" / "bert-overfit" / "trainer_state.csv").is_file()


def test_mapping_applies_to_every_file(tmp_path):
    (tmp_path / "a.csv").write_text("step,loss\n0,1.0\n1,0.5\n")
    (tmp_path / "b.log").write_text("epoch,loss,acc\n0,2.0,0.1\n")
    (tmp_path / "labels.csv").write_text("file,label,onset_step\na.csv,healthy,\nb.log,lr_low,0\n")
    runs = read_suite(tmp_path, mapping={"loss": "train_loss", "acc": ""})
    assert [sorted(run.channels) for run in runs] == [["train_loss"], ["train_loss"]]
    assert runs[0].mode is None


def small_run(run_id="", label="healthy", onset_step=None, **channels):
    channels = channels or {"train_loss": [1.0, 0.5]}
    return Run.from_columns([0, 1], label=label, onset_step=onset_step, run_id=run_id, **channels)


def test_write_suite_names_unnamed_runs_and_writes_labels(tmp_path):
    runs = RunSet([small_run(), small_run("named", "plateau", 1), small_run()])
    write_suite(runs, tmp_path / "s")
    assert (tmp_path / "s" / "labels.csv").read_text() == (
        "file,label,onset_step,mode\nrun-00000.csv,healthy,,\nnamed.csv,plateau,1,\nrun-00002.csv,healthy,,\n"
    )
    assert [run.run_id for run in read_suite(tmp_path / "s")] == ["run-00000", "named", "run-00002"]


def test_write_suite_refuses_a_non_empty_folder_unless_overwrite(tmp_path):
    runs = RunSet([small_run("a")])
    write_suite(runs, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_suite(runs, tmp_path)
    write_suite(RunSet([small_run("a", "lr_low", 0)]), tmp_path, overwrite=True)
    assert read_suite(tmp_path).labels == ["lr_low"]


@pytest.mark.parametrize(
    "ids, words",
    [
        (["../escape"], "not a safe file name"),
        (["a b"], "not a safe file name"),
        ([".hidden"], "not a safe file name"),
        (["/abs"], "not a safe file name"),
        (["labels"], "clashes with 'labels.csv'"),
        (["Run", "run"], "clashes with 'Run'"),
        (["a", "a.csv/b"], "needs a folder where 'a' writes a file"),
    ],
)
def test_write_suite_rejects_unsafe_or_clashing_ids(tmp_path, ids, words):
    with pytest.raises(ValueError, match=words):
        write_suite(RunSet([small_run(run_id) for run_id in ids]), tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_write_suite_rejects_what_a_run_csv_cannot_hold(tmp_path):
    for name in ("step", " padded", ""):
        run = small_run("x")
        run.channels[name] = Channel(np.array([0]), np.array([1.0]))
        with pytest.raises(ValueError, match="cannot be a run CSV column"):
            write_suite(RunSet([run]), tmp_path / "s")
    empty = Run({"train_loss": Channel(np.array([], dtype=np.int64), np.array([]))}, run_id="e")
    with pytest.raises(ValueError, match="no data point"):
        write_suite(RunSet([empty]), tmp_path / "s")
    with pytest.raises(ValueError, match="at least one run"):
        write_suite(RunSet(), tmp_path / "s")


def make_suite(folder, labels, files=("a.csv",)):
    for name in files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("step,train_loss\n0,1.0\n10,0.8\n")
    (folder / "labels.csv").write_text(labels)


BAD_SUITES = {
    # name: (labels.csv, line, words)
    "unknown label": ("file,label,onset_step\na.csv,exploding,\n", 2, "column 'label': expected a label: one of"),
    "missing file": ("file,label,onset_step\na.csv,healthy,\nb.csv,healthy,\n", 3, "expected an existing run"),
    "onset not an integer": ("file,label,onset_step\na.csv,lr_high,soon\n", 2, "expected an integer onset_step"),
    "fractional onset": ("file,label,onset_step\na.csv,lr_high,2.5\n", 2, "expected an integer onset_step"),
    "healthy with onset": ("file,label,onset_step\na.csv,healthy,10\n", 2, "expected an empty onset_step"),
    "unknown with onset": ("file,label,onset_step\na.csv,unknown,10\n", 2, "expected an empty onset_step"),
    "mode of another label": ("file,label,onset_step,mode\na.csv,lr_high,5,plateau/x\n", 2, "with 'lr_high/'"),
    "missing onset column": ("file,label\na.csv,healthy\n", 1, "expected a 'onset_step' column"),
    "missing file column": ("path,label,onset_step\na.csv,healthy,\n", 1, "expected a 'file' column"),
    "repeated column": ("file,label,onset_step,label\na.csv,healthy,,healthy\n", 1, "'label' appears twice"),
    "listed twice": ("file,label,onset_step\na.csv,healthy,\n./a.csv,healthy,\n", 3, "expected each run once"),
    "same run id": ("file,label,onset_step\na.csv,healthy,\na.log,healthy,\n", 3, "is run 'a', as on line 2"),
    "parent path": ("file,label,onset_step\n../a.csv,healthy,\n", 2, "no '..'"),
    "absolute path": ("file,label,onset_step\n/etc/a.csv,healthy,\n", 2, "relative to the suite folder"),
    "empty file cell": ("file,label,onset_step\n,healthy,\n", 2, "relative to the suite folder"),
    "ragged row": ("file,label,onset_step\na.csv,healthy\n", 2, "expected 3 cells"),
    "no runs": ("file,label,onset_step\n", 2, "at least one run"),
}


@pytest.mark.parametrize("name", BAD_SUITES)
def test_bad_labels_csv_raises_input_error_naming_file_and_line(tmp_path, name):
    labels, line, words = BAD_SUITES[name]
    make_suite(tmp_path, labels, files=("a.csv", "a.log"))
    with pytest.raises(InputError) as info:
        read_suite(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'labels.csv'}:{line}:"), message
    assert words in message, message


def test_a_broken_run_file_is_named_in_the_error(tmp_path):
    shutil.copytree(SUITE, tmp_path / "suite")
    (tmp_path / "suite" / "keras" / "lr_low.log").write_text("epoch,loss\n0,1.0\n0,0.9\n")
    with pytest.raises(InputError) as info:
        read_suite(tmp_path / "suite")
    assert str(info.value).startswith(f"{tmp_path / 'suite' / 'keras' / 'lr_low.log'}:3:")


def test_missing_folder_or_labels_csv(tmp_path):
    with pytest.raises(InputError, match="expected a suite folder"):
        read_suite(tmp_path / "nowhere")
    with pytest.raises(InputError, match="expected a labels.csv with columns file,label,onset_step"):
        read_suite(tmp_path)


def test_onset_may_be_written_as_an_integral_decimal(tmp_path):
    make_suite(tmp_path, "file,label,onset_step,source\na.csv,lr_high,10.0,simulator\n")
    run = read_suite(tmp_path)[0]
    assert run.onset_step == 10 and run.run_id == "a"
    np.testing.assert_array_equal(run.channel("train_loss").steps, [0, 10])
