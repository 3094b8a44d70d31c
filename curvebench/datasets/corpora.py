"""Corpora shipped inside the package: ``load(name)`` returns a RunSet after checking its sha256.

Each corpus is ``data/<name>.parquet`` beside ``data/<name>.parquet.sha256`` (the hex digest
and the file name, as ``sha256sum`` writes them). Loading never needs torch.

>>> "recorded-cpu" in available()
True
"""

from __future__ import annotations

import difflib
import hashlib
from importlib import resources
from pathlib import Path

from curvebench.datasets.parquet import read_parquet
from curvebench.errors import InputError
from curvebench.run import RunSet

_PACKAGE = "curvebench.datasets"


def available() -> list[str]:
    """Names of the shipped corpora."""
    folder = resources.files(_PACKAGE) / "data"
    return sorted(p.name[: -len(".parquet")] for p in folder.iterdir() if p.name.endswith(".parquet"))


def sha256_of(path) -> str:
    """Hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_path(name: str):
    """Path of corpus ``name``'s Parquet file; ``KeyError`` with close matches for an unknown name."""
    names = available()
    if name not in names:
        close = difflib.get_close_matches(name, names)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"no corpus named {name!r}{hint} (available: {', '.join(names)})")
    return resources.files(_PACKAGE) / "data" / f"{name}.parquet"


def load(name: str) -> RunSet:
    """The shipped corpus ``name``; :class:`InputError` when its checksum does not match.

    >>> runs = load("recorded-cpu")
    >>> sorted(set(runs.labels))
    ['healthy', 'lr_high', 'lr_low', 'overfit', 'plateau']
    """
    with resources.as_file(corpus_path(name)) as path:
        return read_checked(path)


def read_checked(path) -> RunSet:
    """Read the RunSet at ``path`` after checking it against ``<path>.sha256``."""
    path = Path(path)
    check = path.with_name(path.name + ".sha256")
    try:
        expected = check.read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        raise InputError(check, "expected a sha256 checksum file beside the corpus") from None
    found = sha256_of(path)
    if found != expected:
        raise InputError(path, f"expected sha256 {expected} (the corpus is corrupt or was edited)", found=found)
    return read_parquet(path)
