"""One run as CSV: a ``step`` column, a ``train_loss`` column, and any further numeric channels.

An empty cell is a missing value; ``nan``, ``inf`` and ``-inf`` are values. Numbers are
written with Python's shortest round-trip repr, so write-then-read is exact.

>>> import io
>>> run = read_csv(io.StringIO("step,train_loss,val_loss\\n0,2.3,\\n10,nan,2.0\\n"), path="demo.csv")
>>> run.channel("val_loss").steps, run.channel("train_loss").values
(array([10]), array([2.3, nan]))
>>> print(to_csv_text(run), end="")
step,train_loss,val_loss
0,2.3,
10,nan,2.0
"""

from __future__ import annotations

import csv
import io
import os
from typing import IO, Mapping

import numpy as np

from curvebench.errors import InputError
from curvebench.run import Channel, Run

STEP = "step"


def parse_float(text: str) -> float:
    """``float(text)`` that also reads ``Infinity``/``NaN`` spellings; ``ValueError`` otherwise."""
    return float(text.strip())


def parse_step(text: str) -> int:
    """An integer step; integer-valued decimals such as ``"10.0"`` are accepted."""
    value = float(text.strip())
    if not np.isfinite(value) or value != int(value):
        raise ValueError(text)
    return int(value)


def read_csv(
    source: str | os.PathLike | IO[str],
    *,
    mapping: Mapping[str, str] | None = None,
    path: str | os.PathLike | None = None,
    label: str = "unknown",
    onset_step: int | None = None,
    meta: Mapping | None = None,
) -> Run:
    """Read one run from CSV. ``mapping`` renames columns (``{"loss": "train_loss"}``).

    A column mapped to ``""`` is dropped on purpose; every other column must be numeric.
    """
    path = path if path is not None else (source if not hasattr(source, "read") else None)
    if hasattr(source, "read"):
        rows = list(csv.reader(source))
    else:
        try:
            with open(source, newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(path, f"expected a readable UTF-8 CSV file ({err})") from None
    return rows_to_run(rows, path=path, mapping=mapping, label=label, onset_step=onset_step, meta=meta)


def rows_to_run(
    rows: list[list[str]],
    *,
    path,
    mapping: Mapping[str, str] | None = None,
    label: str = "unknown",
    onset_step: int | None = None,
    meta: Mapping | None = None,
    first_line: int = 1,
) -> Run:
    """Turn parsed CSV rows (header first) into a run, checking every cell."""
    mapping = dict(mapping or {})
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(path, "expected a header row with 'step' and 'train_loss' columns; the file is empty")
    header = [mapping.get(name.strip(), name.strip()) for name in rows[0]]
    keep = [i for i, name in enumerate(header) if name != ""]
    seen = set()
    for i in keep:
        if header[i] in seen:
            raise InputError(path, f"expected unique column names; {header[i]!r} appears twice", line=first_line)
        seen.add(header[i])
    for required in (STEP, "train_loss"):
        if required not in seen:
            raise InputError(
                path,
                f"expected a {required!r} column (columns are {', '.join(cell.strip() for cell in rows[0])}; "
                f"rename one with --map NAME={required})",
                line=first_line,
            )
    step_col = header.index(STEP)
    channel_cols = [i for i in keep if i != step_col]
    steps: list[int] = []
    cells: dict[int, tuple[list[int], list[float]]] = {i: ([], []) for i in channel_cols}
    for offset, row in enumerate(rows[1:], start=1):
        line = first_line + offset
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} cells", line=line, found=len(row))
        try:
            step = parse_step(row[step_col])
        except ValueError:
            raise InputError(path, "expected an integer step", line=line, column=STEP, found=row[step_col]) from None
        if steps and step <= steps[-1]:
            what = "duplicated" if step == steps[-1] else "decreasing"
            raise InputError(
                path, f"expected strictly increasing steps; step {step} is {what}", line=line, column=STEP
            )
        steps.append(step)
        for i in channel_cols:
            text = row[i].strip()
            if text == "":
                continue
            try:
                value = parse_float(text)
            except ValueError:
                raise InputError(
                    path,
                    "expected a number, nan, inf or an empty cell (map a non-numeric column away with --map NAME=)",
                    line=line,
                    column=header[i],
                    found=text,
                ) from None
            cells[i][0].append(step)
            cells[i][1].append(value)
    if not steps:
        raise InputError(path, "expected at least one data row after the header", line=first_line + 1)
    channels = {header[i]: Channel(np.array(s, dtype=np.int64), np.array(v)) for i, (s, v) in cells.items()}
    meta = dict(meta or {})
    meta.setdefault("source", "user")
    if path is not None:
        meta.setdefault("file", os.fspath(path))
    return Run(channels, label=label, onset_step=onset_step, meta=meta, run_id=_stem(path))


def to_csv_text(run: Run) -> str:
    """The run as CSV text (see module docstring)."""
    names = ["train_loss", *[n for n in run.channels if n != "train_loss"]]
    steps = run.steps
    columns = []
    for name in names:
        ch = run.channels[name]
        cells = np.full(steps.size, "", dtype=object)
        cells[np.searchsorted(steps, ch.steps)] = [repr(float(v)) for v in ch.values]
        columns.append(cells)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([STEP, *names])
    for k, step in enumerate(steps):
        writer.writerow([int(step), *(col[k] for col in columns)])
    return out.getvalue()


def write_csv(run: Run, path: str | os.PathLike) -> None:
    """Write ``run`` to ``path`` as CSV (channels only; label and metadata live elsewhere)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(to_csv_text(run))


def _stem(path) -> str:
    return "" if path is None else os.path.splitext(os.path.basename(os.fspath(path)))[0]
