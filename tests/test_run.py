"""The data model (Channel, Run, RunSet) and its two files: the run CSV and the RunSet Parquet."""

import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curvebench.datasets import read_csv, read_parquet, write_csv, write_parquet
from curvebench.datasets.csv_run import to_csv_text
from curvebench.errors import InputError
from curvebench.run import LABELS, UNKNOWN, Channel, Run, RunSet


def test_labels_are_the_five_classes():
    assert LABELS == ("healthy", "lr_high", "lr_low", "overfit", "plateau")
    assert UNKNOWN not in LABELS


def test_channel_accepts_integral_float_steps_and_stores_int64_float64():
    channel = Channel([0.0, 10.0], [1, 2])
    assert channel.steps.dtype == np.int64 and channel.values.dtype == np.float64
    assert len(channel) == 2


@pytest.mark.parametrize(
    "steps, values, words",
    [
        ([0, 0.5], [1.0, 2.0], "integers"),
        ([0, math.nan], [1.0, 2.0], "integers"),
        ([5, 5], [1.0, 2.0], "strictly increasing"),
        ([5, 3], [1.0, 2.0], "strictly increasing"),
        ([0, 1], [1.0], "2 steps but 1 values"),
    ],
)
def test_channel_rejects_bad_steps(steps, values, words):
    with pytest.raises(ValueError, match=words):
        Channel(steps, values)


def test_channel_equality_treats_nan_as_data():
    assert Channel([0, 1], [math.nan, math.inf]) == Channel([0, 1], [math.nan, math.inf])
    assert Channel([0, 1], [math.nan, 1.0]) != Channel([0, 1], [math.nan, 2.0])
    assert Channel([0, 1], [1.0, 2.0]) != Channel([0, 2], [1.0, 2.0])


def test_run_from_columns_none_is_missing_and_nan_is_a_value():
    run = Run.from_columns([0, 10, 20], train_loss=[2.0, math.nan, 1.0], val_loss=[None, 1.5, None])
    assert run.channel("val_loss").steps.tolist() == [10]
    assert math.isnan(run.channel("train_loss").values[1])
    assert run.n_steps == 3 and run.last_step == 20 and run.has("val_loss") and not run.has("lr")
    assert run.steps.tolist() == [0, 10, 20]


def test_run_steps_is_the_union_of_channel_steps():
    run = Run({"train_loss": Channel([5, 7], [1.0, 0.9]), "val_loss": Channel([0, 6], [1.2, 1.1])})
    assert run.steps.tolist() == [0, 5, 6, 7]
    assert run.to_frame().shape == (4, 2)
    assert np.isnan(run.to_frame().loc[0, "train_loss"])


def test_empty_run_has_no_last_step():
    run = Run({"train_loss": Channel([], [])})
    assert run.last_step is None and run.n_steps == 0


def test_channel_lookup_names_what_the_run_has():
    run = Run.from_columns([0], train_loss=[1.0])
    with pytest.raises(KeyError, match=r"no channel 'lr'; it has \['train_loss'\]"):
        run.channel("lr")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"label": "exploding"}, "unknown label 'exploding'"),
        ({"label": "lr_high", "mode": "plateau/x"}, "must start with 'lr_high/'"),
        ({"label": "healthy", "onset_step": 3}, "a healthy run has no onset_step"),
        ({"onset_step": 3}, "a unknown run has no onset_step"),
    ],
)
def test_run_rejects_inconsistent_ground_truth(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Run.from_columns([0], train_loss=[1.0], **kwargs)


def test_run_needs_train_loss_and_channels():
    with pytest.raises(ValueError, match="needs a 'train_loss' channel"):
        Run({"val_loss": Channel([0], [1.0])})
    with pytest.raises(TypeError, match="must be a Channel"):
        Run({"train_loss": [1.0]})


def test_run_equality_covers_ground_truth_and_meta():
    make = lambda **kw: Run.from_columns([0], train_loss=[1.0], **kw)  # noqa: E731
    assert make(meta={"x": math.nan}) == make(meta={"x": math.nan})
    assert make(label="lr_low") != make(label="plateau")
    assert make(run_id="a") != make(run_id="b")
    assert make(meta={"seed": 1}) != make(meta={"seed": 2})


def test_runset_is_an_ordered_sequence():
    a = Run.from_columns([0], train_loss=[1.0], label="lr_low", run_id="a")
    b = Run.from_columns([0], train_loss=[2.0], label="plateau", run_id="b")
    runs = RunSet([a, b])
    assert len(runs) == 2 and runs[1] is b and runs.labels == ["lr_low", "plateau"]
    assert isinstance(runs[:1], RunSet) and runs[:1] == RunSet([a])
    assert (runs + RunSet([a])).labels == ["lr_low", "plateau", "lr_low"]
    assert runs.filter(lambda run: run.label == "plateau") == RunSet([b])
    assert "RunSet(2 runs" in repr(runs)
    with pytest.raises(TypeError, match="holds Runs"):
        RunSet([a, "b"])


def test_csv_format_writes_empty_cells_for_missing_and_nan_for_nan(tmp_path):
    run = Run.from_columns(
        [0, 10, 20], train_loss=[2.5, math.nan, math.inf], val_loss=[None, -math.inf, None], run_id="r"
    )
    assert to_csv_text(run) == "step,train_loss,val_loss\n0,2.5,\n10,nan,-inf\n20,inf,\n"
    path = tmp_path / "r.csv"
    write_csv(run, path)
    back = read_csv(path)
    assert back.channels == run.channels
    assert back.run_id == "r" and back.meta == {"source": "user", "file": str(path)}


def test_csv_mapping_renames_and_drops_columns():
    text = "iter,loss,wall_time\n0,2.0,12:00\n1,1.5,12:01\n"
    run = read_csv(io.StringIO(text), mapping={"iter": "step", "loss": "train_loss", "wall_time": ""})
    assert list(run.channels) == ["train_loss"]
    assert run.channel("train_loss").values.tolist() == [2.0, 1.5]


def test_csv_reads_infinity_spellings_and_integral_decimal_steps():
    run = read_csv(io.StringIO("step,train_loss\n0.0,Infinity\n5,-inf\n10,NaN\n"))
    assert run.channel("train_loss").steps.tolist() == [0, 5, 10]
    assert run.channel("train_loss").values[:2].tolist() == [math.inf, -math.inf]


def test_parquet_round_trip_keeps_ground_truth_and_meta(tmp_path):
    runs = RunSet(
        [
            Run.from_columns([0, 5], train_loss=[1.0, math.nan], label="lr_high", mode="lr_high/nan",
                             onset_step=5, meta={"lr": 1.0, "tags": ["a"], "bad": math.inf}, run_id="x"),
            Run.from_columns([0], train_loss=[2.0], val_loss=[None], run_id="y"),
        ]
    )
    path = tmp_path / "runs.parquet"
    write_parquet(runs, path)
    back = read_parquet(path)
    assert back == runs
    assert len(back[1].channel("val_loss")) == 0


def test_parquet_of_no_runs(tmp_path):
    write_parquet(RunSet(), tmp_path / "none.parquet")
    assert read_parquet(tmp_path / "none.parquet") == RunSet()


def test_parquet_rejects_other_files(tmp_path):
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), foreign)
    with pytest.raises(InputError, match="expected a curvebench RunSet"):
        read_parquet(foreign)
    text = tmp_path / "text.parquet"
    text.write_text("step,train_loss\n")
    with pytest.raises(InputError, match="expected a readable Parquet file"):
        read_parquet(text)
    with pytest.raises(InputError, match=str(tmp_path / "missing.parquet")):
        read_parquet(tmp_path / "missing.parquet")


def test_parquet_rejects_meta_that_is_not_json():
    runs = RunSet([Run.from_columns([0], train_loss=[1.0], meta={"when": object()})])
    with pytest.raises(TypeError, match="JSON-serialisable"):
        write_parquet(runs, "unused.parquet")
