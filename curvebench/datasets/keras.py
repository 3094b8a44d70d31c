"""Keras ``CSVLogger`` logs: one row per epoch, ``epoch`` first, then the ``logs`` keys sorted.

The epoch is the step. Columns become channels by :data:`COLUMN_NAMES` (after the user's
mapping); every other column (``accuracy``, ``val_accuracy``, ...) keeps its name. Keras writes
``NA`` for a key an epoch did not log (a final epoch cut short, ``validation_freq > 1``): that is a
missing value, like an empty cell.

>>> text = ("epoch,accuracy,loss,lr,val_accuracy,val_loss\\n"
...         "0,0.71,0.83,0.001,0.78,0.65\\n1,0.80,0.58,0.001,NA,NA\\n")
>>> run = parse_keras_log(text, path="training.log")
>>> run.channel("train_loss").values, run.channel("val_loss").steps
(array([0.83, 0.58]), array([0]))
"""

from __future__ import annotations

import csv
import io
import os
from typing import Mapping

from curvebench.datasets.csv_run import rows_to_run
from curvebench.run import Run

COLUMN_NAMES: dict[str, str] = {"epoch": "step", "loss": "train_loss", "lr": "lr", "learning_rate": "lr"}
"""Keras column names renamed to curvebench's (``lr`` in Keras 2, ``learning_rate`` in Keras 3)."""
MISSING = "NA"
"""The cell Keras writes for a value it did not log."""


def parse_keras_log(text: str, *, path: str | os.PathLike | None, mapping: Mapping[str, str] | None = None) -> Run:
    """One run from the text of a Keras ``CSVLogger`` file; ``mapping`` renames or drops columns."""
    rows = list(csv.reader(io.StringIO(text)))
    header = {cell.strip() for cell in rows[0]} if rows else set()
    names = {column: name for column, name in COLUMN_NAMES.items() if column in header}
    names.update(mapping or {})
    data = [["" if cell.strip() == MISSING else cell for cell in row] for row in rows[1:]]
    return rows_to_run(rows[:1] + data, path=path, mapping=names)
