"""A labeled suite: a folder of run files plus a ``labels.csv`` giving each run's ground truth.

This is how labeled runs are brought to the benchmark. ``labels.csv`` has the columns

* ``file``: the run file's path relative to the folder, ``/``-separated (subfolders are fine);
  any format :func:`~curvebench.datasets.readers.read_run` reads, detected file by file;
* ``label``: one of :data:`~curvebench.run.LABELS`, or ``unknown``;
* ``onset_step``: the integer step where the pathology starts, empty for none (and empty for
  ``healthy`` and ``unknown`` runs);
* ``mode`` (optional): a refinement of the label such as ``lr_high/nan``, empty for none.

Other columns are ignored. A run read from a suite has ``run_id`` = its ``file`` without the
extension (``runs/lr_high-0001``) and ``meta = {"source": "user", "file": ..., "format": ...}``.

:func:`write_suite` writes ``<run_id>.csv`` per run (the run CSV format) and a ``labels.csv``
with the columns ``file,label,onset_step,mode``. Reading it back gives the same channels,
labels, modes, onsets and run ids; other ``meta`` is not kept (write a Parquet RunSet,
:func:`~curvebench.datasets.parquet.write_parquet`, for a lossless copy).

>>> import os, tempfile
>>> from curvebench.run import Run, RunSet
>>> runs = RunSet([Run.from_columns([0, 10], train_loss=[2.3, float("nan")], label="lr_high",
...                                 mode="lr_high/nan", onset_step=10, run_id="diverged")])
>>> folder = os.path.join(tempfile.mkdtemp(), "suite")
>>> write_suite(runs, folder)
>>> print(open(os.path.join(folder, "labels.csv")).read(), end="")
file,label,onset_step,mode
diverged.csv,lr_high,10,lr_high/nan
>>> back = read_suite(folder)
>>> back[0].run_id, back[0].onset_step, back[0].channel("train_loss") == runs[0].channel("train_loss")
('diverged', 10, True)
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import PurePosixPath
from typing import Mapping, NamedTuple

from curvebench.datasets.csv_run import STEP, parse_step, write_csv
from curvebench.datasets.readers import read_run, read_text
from curvebench.errors import InputError
from curvebench.run import LABELS, UNKNOWN, Run, RunSet

LABELS_FILE = "labels.csv"
REQUIRED_COLUMNS: tuple[str, ...] = ("file", "label", "onset_step")
"""The columns ``labels.csv`` must have; ``mode`` is optional, others are ignored."""
WRITTEN_COLUMNS: tuple[str, ...] = ("file", "label", "onset_step", "mode")

_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*")


class _Entry(NamedTuple):
    line: int
    file: str
    label: str
    onset_step: int | None
    mode: str | None


def read_suite(folder: str | os.PathLike, *, mapping: Mapping[str, str] | None = None) -> RunSet:
    """Read every run ``labels.csv`` lists, in its order, with its label; ``mapping`` applies to every file."""
    if not os.path.isdir(folder):
        raise InputError(folder, f"expected a suite folder holding {LABELS_FILE} and the run files it lists")
    entries = _read_labels(os.path.join(folder, LABELS_FILE), folder)
    runs = []
    for entry in entries:
        run = read_run(os.path.join(folder, *entry.file.split("/")), mapping=mapping)
        runs.append(
            Run(
                run.channels,
                label=entry.label,
                mode=entry.mode,
                onset_step=entry.onset_step,
                meta=run.meta,
                run_id=_run_id(entry.file),
            )
        )
    return RunSet(runs)


def write_suite(runs: RunSet, folder: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Write ``runs`` as a suite in ``folder`` (see the module docstring).

    A run without a ``run_id`` is named ``run-00000``, ``run-00001``, ... by its position. Run
    ids must be safe file names, ``/``-separated parts of letters, digits and ``_.+=-`` not
    starting with ``.``, ``-``, ``+`` or ``=``, and their files must differ ignoring case
    (and from ``labels.csv``); a ``/`` puts the file in a subfolder. A non-empty ``folder``
    is an error unless ``overwrite``, which replaces ``labels.csv`` and same-named run files
    and leaves other files alone.
    """
    ids = [run.run_id or f"run-{i:05d}" for i, run in enumerate(runs)]
    _check_writable(runs, ids)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileExistsError(f"{os.fspath(folder)} exists and is not a folder")
    if os.path.isdir(folder) and os.listdir(folder) and not overwrite:
        raise FileExistsError(f"{os.fspath(folder)} is not empty; pass overwrite=True to write into it")
    rows = []
    for run, run_id in zip(runs, ids):
        file = f"{run_id}.csv"
        target = os.path.join(folder, *file.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        write_csv(run, target)
        onset = "" if run.onset_step is None else run.onset_step
        rows.append([file, run.label, onset, run.mode or ""])
    with open(os.path.join(folder, LABELS_FILE), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(WRITTEN_COLUMNS)
        writer.writerows(rows)


def _read_labels(path: str, folder) -> list[_Entry]:
    if not os.path.isfile(path):
        columns = ",".join(REQUIRED_COLUMNS)
        raise InputError(path, f"expected a {LABELS_FILE} with columns {columns} in the suite folder")
    reader = csv.reader(io.StringIO(read_text(path)))
    header = [cell.strip() for cell in next(reader, [])]
    for column in REQUIRED_COLUMNS:
        if column not in header:
            columns = ", ".join(header) or "none"
            raise InputError(path, f"expected a {column!r} column (columns are {columns})", line=1)
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise InputError(path, f"expected unique column names; {repeated[0]!r} appears twice", line=1)
    entries: dict[str, _Entry] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} cells", line=line, found=len(row))
        entry = _entry({name: cell.strip() for name, cell in zip(header, row)}, path, line, folder)
        run_id = _run_id(entry.file)
        if run_id in entries:
            expected = f"expected each run once; {entry.file!r} is run {run_id!r}, as on line {entries[run_id].line}"
            raise InputError(path, expected, line=line, column="file")
        entries[run_id] = entry
    if not entries:
        raise InputError(path, "expected at least one run listed after the header", line=2)
    return list(entries.values())


def _entry(cells: dict[str, str], path: str, line: int, folder) -> _Entry:
    """One row of ``labels.csv``, checked."""

    def fail(expected: str, column: str) -> InputError:
        return InputError(path, expected, line=line, column=column, found=cells[column])

    file, label, onset, mode = cells["file"], cells["label"], cells["onset_step"], cells.get("mode") or None
    parts = PurePosixPath(file).parts
    if not file or file.startswith("/") or "\\" in file or ".." in parts or re.match(r"[A-Za-z]:", file):
        raise fail("expected the run file's path relative to the suite folder, '/'-separated, no '..'", "file")
    if not os.path.isfile(os.path.join(folder, *parts)):
        raise fail("expected an existing run file in the suite folder", "file")
    if label not in LABELS and label != UNKNOWN:
        raise fail(f"expected a label: one of {', '.join(LABELS)} or {UNKNOWN}", "label")
    onset_step = None
    if onset:
        try:
            onset_step = parse_step(onset)
        except ValueError:
            raise fail("expected an integer onset_step or an empty cell", "onset_step") from None
        if label in ("healthy", UNKNOWN):
            raise fail(f"expected an empty onset_step for a {label} run (it has no onset)", "onset_step")
    if mode is not None and not mode.startswith(f"{label}/"):
        raise fail(f"expected a mode starting with '{label}/' or an empty cell", "mode")
    return _Entry(line, "/".join(parts), label, onset_step, mode)


def _run_id(file: str) -> str:
    return str(PurePosixPath(file).with_suffix(""))


def _check_writable(runs: RunSet, ids: list[str]) -> None:
    if not len(runs):
        raise ValueError("expected at least one run to write")
    files = {LABELS_FILE: "labels.csv"}
    folders: dict[str, str] = {}
    for run, run_id in zip(runs, ids):
        parts = run_id.split("/")
        if not all(_SAFE_PART.fullmatch(part) for part in parts):
            raise ValueError(
                f"run id {run_id!r} is not a safe file name: use '/'-separated parts of letters, digits "
                "and _.+=- that do not start with . - + or ="
            )
        file = f"{run_id}.csv".casefold()
        if file in files:
            raise ValueError(f"run id {run_id!r} clashes with {files[file]!r}: files must differ ignoring case")
        files[file] = run_id
        folders.update({"/".join(parts[:k]).casefold(): run_id for k in range(1, len(parts))})
        if run.steps.size == 0:
            raise ValueError(f"run {run_id!r} has no data point; a run CSV needs at least one step")
        for name in run.channels:
            if name in ("", STEP) or name != name.strip():
                raise ValueError(f"run {run_id!r}: channel name {name!r} cannot be a run CSV column")
    for file, run_id in files.items():
        if file in folders:
            raise ValueError(f"run id {folders[file]!r} needs a folder where {run_id!r} writes a file")
