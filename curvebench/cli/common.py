"""Argument helpers the commands share: ``--map`` pairs and reading run files or suites."""

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


def add_map_argument(parser) -> None:
    parser.add_argument(
        "--map",
        action="append",
        metavar="SRC=DST",
        help="rename a column (repeatable): --map loss=train_loss; --map col= drops a column",
    )


def read_runs(path: str, mapping: dict[str, str]) -> list[tuple[str, RunSet]]:
    """The runs at ``path``: a run file, a RunSet ``.parquet``, or a labeled-suite folder."""
    from curvebench.datasets import read_parquet, read_run, read_suite

    if os.path.isdir(path):
        return [(path, read_suite(path, mapping=mapping))]
    if path.endswith(".parquet"):
        return [(path, read_parquet(path))]
    return [(path, RunSet([read_run(path, mapping=mapping)]))]
