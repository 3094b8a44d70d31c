"""TaskSet learning curves (Metz et al., 2020) in the gzipped-JSON form of ``releaunifreiburg/DPL``.

A file is a JSON list of runs of one task, each ``{"hp": {"learning_rate": ..., ...}, "train": {"loss":
[...]}, "valid": {"loss": [...]}, "test": {"loss": [...]}}``: the losses at the task's evaluations (51 in the
shared files), averaged over seeds, NaN where the run diverged. Each entry becomes a :class:`~curvebench.run.Run`
with ``train_loss``, ``val_loss`` and ``test_loss`` at steps ``0, 1, ...`` (the evaluation index: the files do
not say how many optimizer steps lie between two evaluations), ``meta["task"]`` the file's task name and
``meta["hp"]`` the hyperparameters. Nobody labeled these runs, so :func:`read_taskset` names each one by the
recorder's written rules (:func:`~curvebench.datasets.recorder.verify.classify`, from its numbers alone); a run
no rule names is ``unknown``.

>>> import gzip, json, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "Toy_task.json.gz")
>>> flat = {"hp": {"learning_rate": 1e-6}, "train": {"loss": [0.693] * 51}, "valid": {"loss": [0.694] * 51}}
>>> blown = {"hp": {"learning_rate": 3.0}, "train": {"loss": [0.7, 9.0] + [None] * 49}, "valid": {"loss": [0.7] * 51}}
>>> with gzip.open(path, "wt") as f:
...     json.dump([flat, blown], f)
>>> runs = read_taskset(path)
>>> [(run.label, run.mode, run.onset_step) for run in runs]
[('plateau', 'plateau/stuck', 0), ('lr_high', 'lr_high/nan', 2)]
>>> runs[0].meta["task"], runs[0].meta["hp"]["learning_rate"]
('Toy_task', 1e-06)
>>> suite, left_out = labeled_suite(path)
>>> len(suite), left_out
(2, 0)
"""

from __future__ import annotations

import gzip
import json
import os
import zlib

import numpy as np

from curvebench.datasets.recorder.verify import classify
from curvebench.errors import InputError
from curvebench.run import UNKNOWN, Channel, Run, RunSet

SUFFIX = ".json.gz"
CHANNELS = {"train": "train_loss", "valid": "val_loss", "test": "test_loss"}
"""TaskSet's split names and the channel each becomes (``train`` is required)."""


def is_taskset(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a TaskSet file (``*.json.gz``) or a folder of them (and no ``labels.csv``)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        names = os.listdir(path)
        return "labels.csv" not in names and any(name.endswith(SUFFIX) for name in names)
    return path.endswith(SUFFIX)


def read_taskset(path: str | os.PathLike) -> RunSet:
    """The runs of a TaskSet file, or of every ``*.json.gz`` file in a folder (in name order), each labeled by the
    verification rules (``unknown`` when none matches)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        files = sorted(name for name in os.listdir(path) if name.endswith(SUFFIX))
        return RunSet([run for name in files for run in read_taskset(os.path.join(path, name))])
    return _read_file(path)


def labeled_suite(path: str | os.PathLike) -> tuple[RunSet, int]:
    """The runs of :func:`read_taskset` that a rule names (a suite to score detectors on), and how many it left
    out because no rule names them."""
    runs = read_taskset(path)
    labeled = RunSet([run for run in runs if run.label != UNKNOWN])
    return labeled, len(runs) - len(labeled)


def _read_file(path: str) -> RunSet:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            entries = json.load(handle)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(path, f"expected a gzipped JSON TaskSet file ({error})") from None
    except json.JSONDecodeError as error:
        raise InputError(path, f"expected JSON ({error.msg})", line=error.lineno, column=error.colno) from None
    except UnicodeDecodeError:
        raise InputError(path, "expected UTF-8 JSON inside the gzip") from None
    if not isinstance(entries, list):
        raise InputError(path, "expected a JSON list of runs", found=type(entries).__name__)
    task = os.path.basename(path)[: -len(SUFFIX)] if path.endswith(SUFFIX) else os.path.basename(path)
    return RunSet([_run(entry, i, task, path) for i, entry in enumerate(entries)])


def _run(entry, index: int, task: str, path: str) -> Run:
    where = f"run {index}"
    if not isinstance(entry, dict) or not isinstance(entry.get("train"), dict):
        raise InputError(path, f"expected {where} to be an object with a 'train' object")
    channels = {}
    for split, name in CHANNELS.items():
        if split not in entry:
            continue
        losses = entry[split].get("loss") if isinstance(entry[split], dict) else None
        if not isinstance(losses, list) or not all(v is None or isinstance(v, (int, float)) for v in losses):
            raise InputError(path, f"expected {where}'s {split!r} to hold a 'loss' list of numbers or null")
        values = np.array([np.nan if v is None else v for v in losses], dtype=np.float64)
        channels[name] = Channel(np.arange(values.size), values)
    hp = entry.get("hp", {})
    if not isinstance(hp, dict):
        raise InputError(path, f"expected {where}'s 'hp' to be an object")
    unlabeled = Run(channels, meta={"task": task, "hp": hp, "source": path, "index": index},
                    run_id=f"{task}-{index:04d}")
    verdict = classify(unlabeled)
    if verdict is None:
        return unlabeled
    return Run(channels, verdict.label, verdict.mode, verdict.onset_step, unlabeled.meta, unlabeled.run_id)
