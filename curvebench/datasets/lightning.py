"""PyTorch Lightning ``CSVLogger`` logs: a ``metrics.csv`` with one row per logging call.

Training, validation and learning-rate rows are interleaved and several rows may share a
step; they are merged (see :mod:`~curvebench.datasets.records`), and a blank cell is a value
that row does not carry. Columns become channels by these rules, after the user's mapping:

* ``step`` is the step; ``epoch`` is dropped (a position, not a metric).
* A metric logged with ``on_step=True, on_epoch=True`` gives a pair ``X_step``/``X_epoch``:
  ``X_step`` is the per-step series and becomes channel ``X`` (so ``train_loss_step`` is
  ``train_loss``); ``X_epoch`` is a per-epoch aggregate and stays a channel of its own name.
* The one learning-rate column of ``LearningRateMonitor`` (``lr-AdamW``, ``lr-SGD``, ...)
  becomes ``lr``; with several (param groups, optimizers) none is renamed: map the one you want.
  Its ``-momentum`` and ``-weight_decay`` columns keep their names.
* ``grad_2.0_norm_total`` (Lightning's ``grad_norm`` utility) becomes ``grad_norm``.

>>> text = '''epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_loss
... ,0.001,49,,,
... 0,,49,,0.91,
... 0,,99,,0.75,
... 0,,117,,,0.70
... 0,,117,0.82,,
... '''
>>> run = parse_metrics_csv(text, path="version_0/metrics.csv")
>>> run.channel("train_loss").steps, run.channel("train_loss_epoch").values
(array([49, 99]), array([0.82]))
"""

from __future__ import annotations

import csv
import io
import os
from typing import Mapping

from curvebench.datasets.csv_run import parse_float, parse_step
from curvebench.datasets.records import ChannelBuilder, ChannelNamer
from curvebench.errors import InputError
from curvebench.run import Run

LR_PREFIX = "lr-"
LR_COMPANIONS = ("-momentum", "-weight_decay")
GRAD_NORM_TOTAL = "grad_2.0_norm_total"


def parse_metrics_csv(
    text: str, *, path: str | os.PathLike | None, mapping: Mapping[str, str] | None = None
) -> Run:
    """One run from the text of a Lightning ``metrics.csv``; ``mapping`` renames or drops columns."""
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    if not any(header):
        raise InputError(path, "expected a header row with 'epoch' and 'step' columns", line=1)
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise InputError(path, f"expected unique column names; {repeated[0]!r} appears twice", line=1)
    defaults = default_names(header)
    namer = ChannelNamer(lambda column: defaults[column], mapping, path=path)
    names = [namer.name(column, line=1) for column in header]
    for required in ("step", "train_loss"):
        if required not in names:
            raise InputError(
                path,
                f"expected a column that becomes {required!r} (columns are {', '.join(header)}; "
                f"rename one with --map NAME={required})",
                line=1,
            )
    step_col = names.index("step")
    channel_cols = [i for i, name in enumerate(names) if name not in ("", "step")]
    builder = ChannelBuilder(path, names=[names[i] for i in channel_cols])
    rows = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} cells", line=line, found=len(row))
        try:
            step = parse_step(row[step_col])
        except ValueError:
            raise InputError(
                path, "expected an integer step", line=line, column=header[step_col], found=row[step_col]
            ) from None
        values = {}
        for i in channel_cols:
            cell = row[i].strip()
            if not cell:
                continue
            try:
                values[names[i]] = parse_float(cell)
            except ValueError:
                raise InputError(
                    path,
                    f"expected a number, nan, inf or an empty cell (drop the column with --map {header[i]}=)",
                    line=line,
                    column=header[i],
                    found=cell,
                ) from None
        builder.add(step, line=line, values=values)
        rows += 1
    if not rows:
        raise InputError(path, "expected at least one data row after the header", line=2)
    return Run(builder.channels())


def default_names(header: list[str]) -> dict[str, str]:
    """Each column's channel name by the rules in the module docstring (``""``: dropped).

    >>> default_names(["epoch", "lr-SGD", "step", "val_acc_epoch", "val_acc_step"])
    {'epoch': '', 'lr-SGD': 'lr', 'step': 'step', 'val_acc_epoch': 'val_acc_epoch', 'val_acc_step': 'val_acc'}
    """
    names = {column: column for column in header}
    names["epoch"] = ""
    for column in header:
        base = column.removesuffix("_step")
        if base != column and f"{base}_epoch" in names:
            names[column] = base
    learning_rates = [c for c in header if c.startswith(LR_PREFIX) and not c.endswith(LR_COMPANIONS)]
    if len(learning_rates) == 1:
        names[learning_rates[0]] = "lr"
    if GRAD_NORM_TOTAL in names:
        names[GRAD_NORM_TOTAL] = "grad_norm"
    return {column: names[column] for column in header}
