"""HuggingFace ``Trainer`` logs: the ``log_history`` list of a ``trainer_state.json``.

Each entry is one ``Trainer.log`` call: training entries carry ``loss``, ``grad_norm`` and
``learning_rate``, evaluation entries ``eval_loss`` and the other ``eval_*`` metrics; entries
that share a step are merged. Keys become channels by :data:`KEY_NAMES`; any other numeric key
keeps its own name (``eval_accuracy``), except the bookkeeping keys in :data:`IGNORED_KEYS` or
ending in one of :data:`IGNORED_SUFFIXES` (runtimes, throughputs, FLOs, memory deltas), which
are no training signal. A ``null`` value is a missing value; ``NaN``/``Infinity`` are values.

The end-of-training summary entry (the one with ``train_runtime``; its ``train_loss`` is the
average over the whole run) is skipped, and so are entries after it at the same step: a
``trainer.evaluate()`` after training scores the final (or best) model, not a point on the curve.

>>> text = '''{"log_history": [
...   {"epoch": 0.5, "grad_norm": 3.1, "learning_rate": 5e-05, "loss": 0.69, "step": 10},
...   {"epoch": 0.5, "eval_loss": 0.61, "eval_runtime": 1.2, "step": 10},
...   {"epoch": 1.0, "step": 20, "total_flos": 1e12, "train_loss": 0.65, "train_runtime": 9.8}
... ]}'''
>>> run = parse_trainer_state(text, path="out/trainer_state.json")
>>> sorted(run.channels), run.channel("val_loss").steps
(['grad_norm', 'lr', 'train_loss', 'val_loss'], array([10]))
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Mapping

from curvebench.datasets.records import ChannelBuilder, ChannelNamer
from curvebench.errors import InputError
from curvebench.run import Run

KEY_NAMES: dict[str, str] = {
    "loss": "train_loss",
    "learning_rate": "lr",
    "eval_loss": "val_loss",
    "grad_norm": "grad_norm",
}
"""``log_history`` keys renamed to curvebench's core channels."""
IGNORED_KEYS: tuple[str, ...] = (
    "epoch",
    "total_flos",
    "num_input_tokens_seen",
    "before_init_mem_cpu",
    "before_init_mem_gpu",
)
"""Bookkeeping keys that never become channels (``step`` is the step itself)."""
IGNORED_SUFFIXES: tuple[str, ...] = (
    "_runtime",
    "_samples_per_second",
    "_steps_per_second",
    "_tokens_per_second",
    "_flos",
    "_alloc_delta",
    "_peaked_delta",
    "_preparation_time",
    "_compilation_time",
)
"""Key endings of per-stage bookkeeping (``eval_runtime``, ``eval_mem_cpu_alloc_delta``, ...)."""
SUMMARY_KEY = "train_runtime"
"""The key that marks the end-of-training summary entry."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def parse_trainer_state(
    text: str, *, path: str | os.PathLike | None, mapping: Mapping[str, str] | None = None
) -> Run:
    """One run from the text of a ``trainer_state.json``; ``mapping`` renames or drops keys."""
    history_line, entries = _located_log_history(text, path)
    namer = ChannelNamer(_default_name, mapping, path=path)
    builder = ChannelBuilder(path)
    summary_step = None
    for line, entry in entries:
        if not isinstance(entry, dict):
            raise InputError(
                path, "expected each log_history entry to be a JSON object", line=line, found=_shown(entry)
            )
        step = _entry_step(entry, path, line)
        if SUMMARY_KEY in entry:
            summary_step = step
            continue
        if step == summary_step:
            continue
        values = {}
        for key, value in entry.items():
            name = "" if key == "step" else namer.name(key, line=line)
            if not name or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(
                    path,
                    f"expected a number or null (drop a non-numeric key with --map {key}=)",
                    line=line,
                    column=key,
                    found=_shown(value),
                )
            values[name] = float(value)
        builder.add(step, line=line, values=values)
    channels = builder.channels()
    if "train_loss" not in channels:
        raise InputError(
            path,
            "expected training entries with a 'loss' key in log_history "
            "(or map another key with --map KEY=train_loss)",
            line=history_line,
        )
    return Run(channels)


def _default_name(key: str) -> str:
    if key in IGNORED_KEYS or key.endswith(IGNORED_SUFFIXES):
        return ""
    return KEY_NAMES.get(key, key)


def _entry_step(entry: dict, path, line: int) -> int:
    step = entry.get("step")
    integral = isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step)
    if not integral or step != int(step):
        raise InputError(
            path, "expected an integer 'step' in every entry", line=line, column="step", found=_shown(step)
        )
    return int(step)


def _shown(value: object) -> str:
    """A JSON value as the file spells it, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _located_log_history(text: str, path) -> tuple[int, list[tuple[int, object]]]:
    """The ``log_history`` entries, each with the line it starts on, and the list's own line."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, f"expected valid JSON ({err.msg})", line=err.lineno, column=err.colno) from None
    if not isinstance(document, dict) or not isinstance(document.get("log_history"), list):
        raise InputError(
            path, "expected a HuggingFace trainer_state.json: a JSON object with a 'log_history' list", line=1
        )
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    start = _top_level_values(text, decoder)["log_history"]
    history_line = lines.at(start)
    pos, entries = start + 1, []
    while True:
        pos = _WHITESPACE.match(text, pos).end()
        if text[pos] == "]":
            return history_line, entries
        entry, end = decoder.raw_decode(text, pos)
        entries.append((lines.at(pos), entry))
        pos = _WHITESPACE.match(text, end).end()
        if text[pos] == ",":
            pos += 1


def _top_level_values(text: str, decoder: json.JSONDecoder) -> dict[str, int]:
    """Where each top-level key's value starts, in a JSON object already known to be valid."""
    positions = {}
    pos = _WHITESPACE.match(text, 0).end() + 1
    while True:
        pos = _WHITESPACE.match(text, pos).end()
        if text[pos] == "}":
            return positions
        key, pos = decoder.raw_decode(text, pos)
        pos = _WHITESPACE.match(text, pos).end() + 1
        pos = _WHITESPACE.match(text, pos).end()
        positions[key] = pos
        _, pos = decoder.raw_decode(text, pos)
        pos = _WHITESPACE.match(text, pos).end()
        if text[pos] == ",":
            pos += 1


class _LineCounter:
    """1-based line numbers of increasing offsets into ``text``, counted incrementally."""

    def __init__(self, text: str) -> None:
        self.text, self._pos, self._line = text, 0, 1

    def at(self, pos: int) -> int:
        self._line += self.text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line
