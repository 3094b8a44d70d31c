"""Argument helpers the commands share: ``--map`` pairs, ``--seeds`` lists and reading run files or suites."""

from __future__ import annotations

import os

from curvebench.cli import UsageError
from curvebench.run import RunSet


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``["loss=train_loss", "ts="]`` -> ``{"loss": "train_loss", "ts": ""}`` (empty target: drop the column).

    >>> parse_mapping(["loss=train_loss"])
    {'loss': 'train_loss'}
    """
    mapping = {}
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise UsageError(f"--map expects SOURCE=TARGET (e.g. loss=train_loss), got {pair!r}")
        mapping[source.strip()] = target.strip()
    return mapping


def parse_seeds(text: str) -> list[int]:
    """``"0:20"`` (a half-open range) or ``"1,4,9"``.

    >>> parse_seeds("2:5"), parse_seeds("7,3")
    ([2, 3, 4], [7, 3])
    """
    try:
        if ":" in text:
            lo, hi = (int(part) for part in text.split(":"))
            seeds = list(range(lo, hi))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"--seeds expects START:STOP or a comma list of integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise UsageError(f"--seeds must name at least one non-negative seed, got {text!r}")
    return seeds


def add_map_argument(parser) -> None:
    parser.add_argument(
        "--map",
        action="append",
        metavar="SRC=DST",
        help="rename a column (repeatable): --map loss=train_loss; --map col= drops a column",
    )


def read_runs(path: str, mapping: dict[str, str]) -> list[tuple[str, RunSet]]:
    """The runs at ``path``: a run file, a RunSet ``.parquet``, a labeled-suite folder, or TaskSet files
    (:mod:`~curvebench.datasets.taskset`: a ``.json.gz`` file or a folder of them)."""
    from curvebench.datasets import read_parquet, read_run, read_suite
    from curvebench.datasets.taskset import is_taskset, read_taskset

    if is_taskset(path):
        return [(path, read_taskset(path))]
    if os.path.isdir(path):
        return [(path, read_suite(path, mapping=mapping))]
    if path.endswith(".parquet"):
        return [(path, read_parquet(path))]
    return [(path, RunSet([read_run(path, mapping=mapping)]))]
