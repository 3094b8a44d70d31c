"""Read one run from the log a user already has, telling its format from its content.

Formats (:data:`FORMATS`): ``csv`` (curvebench's run CSV, :mod:`~curvebench.datasets.csv_run`),
``hf-trainer`` (a HuggingFace ``trainer_state.json``), ``lightning`` (a Lightning
``CSVLogger`` ``metrics.csv``) and ``keras`` (a Keras ``CSVLogger`` file). ``mapping`` renames
the log's own column or key names to channel names (``{"loss": "train_loss"}``; an empty target
drops the column) and is applied before each format's own renaming.

The run gets ``meta = {"source": "user", "file": path, "format": format}`` and ``run_id`` =
the file's stem, except for files whose fixed names say nothing (``trainer_state.json``,
``metrics.csv``): those are ``<parent folder>/<stem>``, e.g. ``version_3/metrics``.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "training.log")
>>> with open(path, "w") as f:
...     _ = f.write("epoch,loss,lr,val_loss\\n0,1.20,0.01,1.10\\n1,0.90,0.01,0.95\\n")
>>> detect_format(path)
'keras'
>>> run = read_run(path)
>>> run.run_id, run.meta["format"], run.channel("train_loss").values
('training', 'keras', array([1.2, 0.9]))
"""

from __future__ import annotations

import csv
import io
import os
from typing import Mapping

from curvebench.datasets.csv_run import read_csv
from curvebench.datasets.hf_trainer import parse_trainer_state
from curvebench.datasets.keras import parse_keras_log
from curvebench.datasets.lightning import parse_metrics_csv
from curvebench.errors import InputError
from curvebench.run import Run

FORMATS: tuple[str, ...] = ("csv", "hf-trainer", "lightning", "keras")
"""The log formats :func:`read_run` reads."""
NAMELESS_FILES: tuple[str, ...] = ("trainer_state.json", "metrics.csv")
"""Fixed file names whose run id also takes the parent folder's name."""
EXPECTED = (
    "expected a run CSV ('step' and 'train_loss' columns), a Lightning metrics.csv ('epoch' and 'step' "
    "columns), a Keras CSVLogger log ('epoch' column, no 'step') or a HuggingFace trainer_state.json "
    "(JSON with 'log_history')"
)


def _parse_run_csv(text: str, *, path, mapping: Mapping[str, str] | None = None) -> Run:
    return read_csv(io.StringIO(text), path=path, mapping=mapping)


_PARSERS = {
    "csv": _parse_run_csv,
    "hf-trainer": parse_trainer_state,
    "lightning": parse_metrics_csv,
    "keras": parse_keras_log,
}


def read_run(path: str | os.PathLike, *, mapping: Mapping[str, str] | None = None, format: str = "auto") -> Run:
    """Read the run logged in ``path``; ``format="auto"`` detects it (:func:`detect_format`)."""
    if format != "auto" and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected 'auto' or one of {', '.join(FORMATS)}")
    text = read_text(path)
    if format == "auto":
        format = detect_text_format(text, path=path, mapping=mapping)
    try:
        run = _PARSERS[format](text, path=path, mapping=mapping)
    except csv.Error as err:
        raise InputError(path, f"expected well-formed CSV ({err})") from None
    run.run_id = run_id_for(path)
    run.meta = {"source": "user", "file": os.fspath(path), "format": format}
    return run


def detect_format(path: str | os.PathLike, *, mapping: Mapping[str, str] | None = None) -> str:
    """Which of :data:`FORMATS` the file at ``path`` is, from its content; see :func:`detect_text_format`."""
    return detect_text_format(read_text(path), path=path, mapping=mapping)


def detect_text_format(text: str, *, path=None, mapping: Mapping[str, str] | None = None) -> str:
    """Which of :data:`FORMATS` ``text`` is; :class:`InputError` saying what was expected if none.

    A JSON object mentioning ``log_history`` is ``hf-trainer``. Otherwise the first row is a CSV
    header, read after ``mapping``: ``step`` as the first column, or ``step`` without ``epoch``,
    is ``csv``; ``step`` and ``epoch`` is ``lightning``; ``epoch`` without ``step`` is ``keras``.

    >>> detect_text_format("epoch,lr-AdamW,step,train_loss_step\\n,0.001,49,\\n")
    'lightning'
    >>> detect_text_format("iteration,loss\\n0,2.3\\n", mapping={"iteration": "step"})
    'csv'
    """
    body = text.lstrip()
    if not body:
        raise InputError(path, f"{EXPECTED}; the file is empty", line=1)
    if body.startswith("{"):
        if '"log_history"' in body:
            return "hf-trainer"
        raise InputError(
            path, "expected a HuggingFace trainer_state.json; this JSON object has no 'log_history'", line=1
        )
    mapping = mapping or {}
    header = next(csv.reader(io.StringIO(body)))
    names = [mapping.get(cell.strip(), cell.strip()) for cell in header]
    if "step" in names:
        return "csv" if names[0] == "step" or "epoch" not in names else "lightning"
    if "epoch" in names:
        return "keras"
    line = text[: len(text) - len(body)].count("\n") + 1
    raise InputError(path, EXPECTED, line=line, found=",".join(header))


def read_text(path: str | os.PathLike) -> str:
    """The file's text (UTF-8, a byte-order mark dropped, line endings kept); :class:`InputError` if not text."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise InputError(path, f"expected a readable file ({err.strerror or err})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            path,
            "expected a UTF-8 text log (CSV or JSON)",
            line=data[: err.start].count(b"\n") + 1,
            found=data[err.start : err.start + 1],
        ) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise InputError(path, "expected a text log (CSV or JSON); this line holds a NUL byte", line=line)
    return text


def run_id_for(path: str | os.PathLike) -> str:
    """The run id of the file at ``path`` (see the module docstring).

    >>> run_id_for("runs/lr_sweep_3.csv"), run_id_for("out/checkpoint-750/trainer_state.json")
    ('lr_sweep_3', 'checkpoint-750/trainer_state')
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    stem = os.path.splitext(name)[0]
    if name not in NAMELESS_FILES:
        return stem
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return f"{parent}/{stem}" if parent else stem
