"""Bad logs: one InputError naming the file, the line (and column) and what was expected; nothing guessed."""

import json

import pytest

from curvebench.datasets import read_run
from curvebench.errors import InputError

LIGHTNING_HEADER = "epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_loss\n"


def hf(*entries):
    """A trainer_state.json whose log_history entries start on lines 4, 5, ... (one per line)."""
    lines = ",\n".join("    " + json.dumps(entry) for entry in entries)
    return '{\n  "global_step": 10,\n  "log_history": [\n' + lines + "\n  ]\n}\n"


CASES = {
    # name: (file name, content, line, words the message must contain)
    "empty": ("run.csv", "", 1, "the file is empty"),
    "blank": ("run.csv", "\n\n  \n", 1, "the file is empty"),
    "not utf-8": ("run.csv", b"step,train_loss\n0,1.0\n1,\xff\n", 3, "UTF-8"),
    "nul byte": ("run.csv", "step,train_loss\n0,1.0\n1,\x000.5\n", 3, "NUL byte"),
    "undetectable header": ("run.csv", "iteration,loss\n0,1.0\n", 1, "expected a run CSV"),
    "csv non-numeric": ("run.csv", "step,train_loss\n0,1.0\n1,abc\n", 3, "column 'train_loss': expected a number"),
    "csv duplicated step": ("run.csv", "step,train_loss\n0,1.0\n0,0.9\n", 3, "step 0 is duplicated"),
    "csv decreasing step": ("run.csv", "step,train_loss\n5,1.0\n3,0.9\n", 3, "step 3 is decreasing"),
    "csv non-integer step": ("run.csv", "step,train_loss\n0.5,1.0\n", 2, "expected an integer step"),
    "csv missing train_loss": ("run.csv", "step,loss\n0,1.0\n", 1, "expected a 'train_loss' column"),
    "csv ragged row": ("run.csv", "step,train_loss\n0,1.0,7\n", 2, "expected 2 cells"),
    "csv header only": ("run.csv", "step,train_loss\n", 2, "at least one data row"),
    "lightning non-numeric": (
        "metrics.csv", LIGHTNING_HEADER + ",0.001,49,,,\n0,,49,,oops,\n", 3,
        "column 'train_loss_step': expected a number",
    ),
    "lightning duplicated": (
        "metrics.csv", LIGHTNING_HEADER + "0,,49,,2.0,\n0,,49,,1.9,\n", 3,
        "channel 'train_loss' has two different values at step 49",
    ),
    "lightning decreasing": (
        "metrics.csv", LIGHTNING_HEADER + "0,,99,,2.0,\n0,,49,,1.9,\n", 3, "step 49 comes after step 99",
    ),
    "lightning blank step": ("metrics.csv", LIGHTNING_HEADER + "0,,,,2.0,\n", 2, "expected an integer step"),
    "lightning no train loss": (
        "metrics.csv", "epoch,step,val_loss\n0,99,1.0\n", 1, "expected a column that becomes 'train_loss'",
    ),
    "lightning repeated column": (
        "metrics.csv", "epoch,step,train_loss,train_loss\n0,1,1.0,1.0\n", 1, "'train_loss' appears twice",
    ),
    "lightning two sources": (
        "metrics.csv", "epoch,step,train_loss,train_loss_step,train_loss_epoch\n0,1,1.0,1.0,\n", 1,
        "both become channel 'train_loss'",
    ),
    "keras non-numeric": ("training.log", "epoch,loss,val_loss\n0,1.0,0.9\n1,0.8,n/a\n", 3, "column 'val_loss'"),
    "keras duplicated epoch": ("training.log", "epoch,loss\n0,1.0\n1,0.9\n1,0.8\n", 4, "step 1 is duplicated"),
    "keras decreasing epoch": ("training.log", "epoch,loss\n3,1.0\n0,0.9\n", 3, "step 0 is decreasing"),
    "keras missing loss": (
        "training.log", "epoch,accuracy\n0,0.5\n", 1, "expected a 'train_loss' column (columns are epoch, accuracy;",
    ),
    "json syntax": ("trainer_state.json", '{\n  "log_history": [\n    {"loss": 1.0,, "step": 1}\n  ]\n}\n', 3,
                    "column 18: expected valid JSON"),
    "json truncated": ("trainer_state.json", hf({"loss": 1.0, "step": 1})[:-8], 4, "expected valid JSON"),
    "json without log_history": ("trainer_state.json", '{"global_step": 1}\n', 1, "has no 'log_history'"),
    "json log_history not a list": (
        "trainer_state.json", '{"log_history": {"loss": 1}}', 1, "a 'log_history' list",
    ),
    "hf non-numeric": (
        "trainer_state.json", hf({"loss": 1.0, "step": 1}, {"eval_report": "ok", "step": 1}), 5,
        "column 'eval_report': expected a number or null (drop a non-numeric key with --map eval_report=)",
    ),
    "hf boolean": ("trainer_state.json", hf({"loss": True, "step": 1}), 4, "column 'loss': expected a number"),
    "hf duplicated step": (
        "trainer_state.json", hf({"loss": 1.0, "step": 10}, {"loss": 0.9, "step": 10}), 5,
        "channel 'train_loss' has two different values at step 10",
    ),
    "hf decreasing step": (
        "trainer_state.json", hf({"loss": 1.0, "step": 20}, {"loss": 0.9, "step": 10}), 5,
        "step 10 comes after step 20",
    ),
    "hf missing step": ("trainer_state.json", hf({"loss": 1.0}), 4, "expected an integer 'step'"),
    "hf infinite step": ("trainer_state.json", hf({"loss": 1.0, "step": float("inf")}), 4, "found 'Infinity'"),
    "hf fractional step": ("trainer_state.json", hf({"loss": 1.0, "step": 1.5}), 4, "expected an integer 'step'"),
    "hf entry not an object": ("trainer_state.json", hf({"loss": 1.0, "step": 1}, [2, 3]), 5, "a JSON object"),
    "hf no loss": ("trainer_state.json", hf({"eval_loss": 1.0, "step": 1}), 3, "'loss' key"),
    "hf two sources": (
        "trainer_state.json", hf({"loss": 1.0, "step": 1}, {"train_loss": 0.9, "step": 2}), 5,
        "'loss' and 'train_loss' both become channel 'train_loss'",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_log_raises_input_error_naming_file_and_line(tmp_path, name):
    file_name, content, line, words = CASES[name]
    path = tmp_path / file_name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    with pytest.raises(InputError) as info:
        read_run(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message, message
    assert info.value.path == str(path) and info.value.line == line


@pytest.mark.parametrize("make", [lambda p: p / "missing.csv", lambda p: p])
def test_unreadable_path_names_the_file(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(InputError, match="expected a readable file") as info:
        read_run(path)
    assert str(info.value).startswith(f"{path}:")


def test_hf_error_line_points_at_the_entry_in_a_pretty_printed_file(tmp_path):
    entries = [{"loss": 1.0, "step": 10}, {"eval_loss": 1.2, "step": 10}, {"loss": "high", "step": 20}]
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"a": [1, {"b": "]"}], "log_history": entries, "z": None}, indent=2))
    text = path.read_text().splitlines()
    entry_line = next(i for i, line in enumerate(text, 1) if '"high"' in line) - 1
    assert text[entry_line - 1].strip() == "{"
    with pytest.raises(InputError) as info:
        read_run(path)
    assert info.value.line == entry_line and info.value.column == "loss"


def test_malformed_csv_is_an_input_error_not_a_traceback(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text("step,train_loss\n0," + "1" * 200_000 + "\n")
    with pytest.raises(InputError, match="expected well-formed CSV .*field limit") as info:
        read_run(path)
    assert str(info.value).startswith(str(path))
