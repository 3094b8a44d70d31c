"""The log readers: each sample parses into the right channels, and the format is detected from content."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from curvebench.datasets import detect_format, read_run
from curvebench.datasets.readers import FORMATS
from curvebench.errors import InputError

DATA = Path(__file__).parent.parent / "data"
HF = DATA / "hf" / "trainer_state.json"
LIGHTNING = DATA / "lightning" / "metrics.csv"
KERAS = DATA / "keras" / "training.log"
RUN_CSV = DATA / "suite" / "runs" / "healthy-cosine.csv"


def column(rows, name):
    """(steps, values) of the rows that carry ``name``, parsed independently of curvebench."""
    kept = [row for row in rows if row.get(name) not in (None, "")]
    return np.array([int(row["step"]) for row in kept]), np.array([float(row[name]) for row in kept])


def assert_channel(run, name, steps, values):
    channel = run.channel(name)
    np.testing.assert_array_equal(channel.steps, steps)
    np.testing.assert_array_equal(channel.values, values)


@pytest.mark.parametrize(
    "path, expected",
    [(HF, "hf-trainer"), (LIGHTNING, "lightning"), (KERAS, "keras"), (RUN_CSV, "csv")],
)
def test_detect_format_tells_each_sample_apart(path, expected):
    assert detect_format(path) == expected
    assert expected in FORMATS


def test_hf_trainer_state_maps_keys_to_channels():
    run = read_run(HF)
    history = json.loads(HF.read_text())["log_history"]
    train = [e for e in history if "loss" in e]
    evals = [e for e in history if "eval_loss" in e]
    assert len(train) == 30 and len(evals) == 6
    train_steps = np.arange(25, 751, 25)
    assert_channel(run, "train_loss", train_steps, [e["loss"] for e in train])
    assert_channel(run, "lr", train_steps, [e["learning_rate"] for e in train])
    assert_channel(run, "grad_norm", train_steps, [e["grad_norm"] for e in train])
    assert_channel(run, "val_loss", np.arange(125, 751, 125), [e["eval_loss"] for e in evals])
    assert_channel(run, "eval_accuracy", np.arange(125, 751, 125), [e["eval_accuracy"] for e in evals])
    assert run.channel("train_loss").values[0] == 0.5975
    assert run.channel("lr").values[2] == 5e-05
    assert sorted(run.channels) == ["eval_accuracy", "grad_norm", "lr", "train_loss", "val_loss"]


def test_hf_summary_entry_is_not_a_train_loss_point():
    summary = json.loads(HF.read_text())["log_history"][-1]
    assert "train_runtime" in summary and summary["step"] == 750
    run = read_run(HF)
    assert run.channel("train_loss").values[-1] != summary["train_loss"]
    assert run.channel("train_loss").values[-1] == 0.1728


def test_hf_run_id_and_meta():
    run = read_run(HF)
    assert run.run_id == "hf/trainer_state"
    assert run.meta == {"source": "user", "file": str(HF), "format": "hf-trainer"}
    assert run.label == "unknown" and run.onset_step is None


def test_lightning_merges_rows_and_keeps_epoch_aggregates_apart():
    run = read_run(LIGHTNING)
    with open(LIGHTNING, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(run.channels) == ["lr", "train_loss", "train_loss_epoch", "val_acc", "val_loss"]
    logged = np.arange(49, 752, 50)
    epoch_ends = np.array([187, 375, 563, 751])
    assert_channel(run, "train_loss", logged, column(rows, "train_loss_step")[1])
    assert_channel(run, "lr", logged, column(rows, "lr-AdamW")[1])
    assert_channel(run, "val_loss", epoch_ends, column(rows, "val_loss")[1])
    assert_channel(run, "train_loss_epoch", epoch_ends, column(rows, "train_loss_epoch")[1])
    assert run.channel("train_loss").values[0] == 2.027261257171631
    assert run.run_id == "lightning/metrics" and run.meta["format"] == "lightning"


def test_keras_epoch_is_the_step():
    run = read_run(KERAS)
    with open(KERAS, newline="") as handle:
        rows = [dict(row, step=row["epoch"]) for row in csv.DictReader(handle)]
    epochs = np.arange(30)
    assert sorted(run.channels) == ["accuracy", "lr", "train_loss", "val_accuracy", "val_loss"]
    assert_channel(run, "train_loss", epochs, column(rows, "loss")[1])
    assert_channel(run, "val_loss", epochs, column(rows, "val_loss")[1])
    assert_channel(run, "lr", epochs, column(rows, "lr")[1])
    assert run.channel("lr").values[0] == 0.0010000000474974513
    assert run.run_id == "training" and run.meta["format"] == "keras"


def test_run_csv_is_read_by_csv_run():
    run = read_run(RUN_CSV)
    assert run.meta == {"source": "user", "file": str(RUN_CSV), "format": "csv"}
    assert run.channel("train_loss").steps.tolist() == list(range(0, 410, 10))
    assert run.channel("val_loss").steps.tolist() == list(range(0, 410, 50))


def test_mapping_renames_and_drops_before_format_defaults():
    run = read_run(HF, mapping={"eval_accuracy": "val_acc", "grad_norm": ""})
    assert sorted(run.channels) == ["lr", "train_loss", "val_acc", "val_loss"]
    keras = read_run(KERAS, mapping={"accuracy": "", "val_accuracy": ""})
    assert sorted(keras.channels) == ["lr", "train_loss", "val_loss"]
    lightning = read_run(LIGHTNING, mapping={"train_loss_epoch": "", "epoch": "epoch"})
    assert sorted(lightning.channels) == ["epoch", "lr", "train_loss", "val_acc", "val_loss"]


def test_mapping_is_used_for_detection(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("iteration,loss\n0,2.3\n1,2.1\n")
    mapping = {"iteration": "step", "loss": "train_loss"}
    assert detect_format(path, mapping=mapping) == "csv"
    assert_channel(read_run(path, mapping=mapping), "train_loss", [0, 1], [2.3, 2.1])


def test_explicit_format_and_unknown_format(tmp_path):
    assert read_run(KERAS, format="keras") == read_run(KERAS)
    with pytest.raises(ValueError, match="unknown format 'tensorboard'"):
        read_run(KERAS, format="tensorboard")


def hf_state(entries):
    return json.dumps({"global_step": 0, "log_history": entries}, indent=2)


def test_hf_nan_and_infinity_are_data_and_null_is_missing(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(
        hf_state(
            [
                {"loss": 2.1, "grad_norm": 1.5, "step": 10},
                {"loss": float("nan"), "grad_norm": float("inf"), "step": 20},
                {"loss": 9.9, "grad_norm": None, "step": 30},
            ]
        )
    )
    assert "NaN" in path.read_text() and "Infinity" in path.read_text()
    run = read_run(path)
    assert_channel(run, "train_loss", [10, 20, 30], [2.1, math.nan, 9.9])
    assert_channel(run, "grad_norm", [10, 20], [1.5, math.inf])


def test_hf_evaluation_after_the_summary_is_skipped_but_continued_training_is_read(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(
        hf_state(
            [
                {"loss": 1.0, "step": 10},
                {"eval_loss": 1.1, "eval_runtime": 2.0, "step": 10},
                {"train_loss": 1.0, "train_runtime": 5.0, "total_flos": 1.0, "step": 10},
                {"eval_loss": 1.05, "eval_runtime": 2.0, "step": 10},
                {"loss": 0.8, "step": 20},
                {"train_loss": 0.9, "train_runtime": 9.0, "step": 20},
            ]
        )
    )
    run = read_run(path)
    assert_channel(run, "train_loss", [10, 20], [1.0, 0.8])
    assert_channel(run, "val_loss", [10], [1.1])


def test_hf_bookkeeping_keys_are_ignored(tmp_path):
    path = tmp_path / "state.json"
    entry = {
        "loss": 1.0, "step": 5, "epoch": 0.1, "num_input_tokens_seen": 640, "eval_squad_runtime": 1.0,
        "eval_samples_per_second": 3.0, "eval_steps_per_second": 1.0, "train_tokens_per_second": 9.0,
        "eval_mem_cpu_alloc_delta": 4096, "eval_model_preparation_time": 0.01, "eval_f1": 0.5,
    }
    path.write_text(hf_state([entry]))
    run = read_run(path)
    assert sorted(run.channels) == ["eval_f1", "train_loss"]
    assert run.run_id == "state"


def test_lightning_plain_train_loss_grad_norm_and_several_lr_columns(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(
        "epoch,grad_2.0_norm_total,lr-AdamW/pg1,lr-AdamW/pg2,step,train_loss\n"
        ",,0.1,0.01,9,\n"
        "0,3.5,,,9,2.25\n"
        "0,2.5,,,19,2.0\n"
    )
    run = read_run(path)
    assert sorted(run.channels) == ["grad_norm", "lr-AdamW/pg1", "lr-AdamW/pg2", "train_loss"]
    assert_channel(run, "train_loss", [9, 19], [2.25, 2.0])
    assert_channel(run, "lr-AdamW/pg2", [9], [0.01])


def test_keras_na_is_missing(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss\n0,1.5,1.6\n1,1.2,NA\n2,nan,NA\n")
    run = read_run(path)
    assert_channel(run, "val_loss", [0], [1.6])
    assert_channel(run, "train_loss", [0, 1, 2], [1.5, 1.2, math.nan])


def test_keras_3_learning_rate_column(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,learning_rate,loss\n0,0.001,1.5\n1,0.0005,1.2\n")
    assert_channel(read_run(path), "lr", [0, 1], [0.001, 0.0005])


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffstep,train_loss\r\n0,1.0\r\n5,0.5\r\n".encode("utf-8"))
    assert detect_format(path) == "csv"
    assert_channel(read_run(path), "train_loss", [0, 5], [1.0, 0.5])


def test_lightning_metric_on_its_own_step_counter_can_be_mapped_away(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss,val_loss_step\n0,99,1.0,\n0,0,,1.2\n0,1,,1.1\n0,199,0.9,\n")
    with pytest.raises(InputError, match=r"metrics.csv:3: column 'step': .* --map NAME="):
        read_run(path)
    run = read_run(path, mapping={"val_loss_step": ""})
    assert_channel(run, "train_loss", [99, 199], [1.0, 0.9])
