"""Replay every run through every detector, in parallel with joblib, with a progress bar.

The work is cut into chunks of at most ``CHUNK`` consecutive runs (so each run is sent to a worker
once); a chunk replays its runs through its own deep copy of every detector (so threads never share
a detector's state), and results come back in submission order, so any ``jobs`` gives the same
verdicts and timelines as ``jobs=1`` (only the measured seconds differ). ``jobs`` is joblib's
``n_jobs``: ``-1`` uses every core of the active backend; work that fits in one chunk is replayed
in this process (starting workers would cost more than it saves).

Because the chunks go through ``joblib.Parallel``, a big evaluation runs on a Dask cluster with
the same code under another backend (``pip install "dask[distributed]"``)::

    from dask.distributed import Client
    import joblib
    client = Client("tcp://scheduler:8786")        # or Client(LocalCluster(...))
    with joblib.parallel_backend("dask"):
        result = evaluate(detectors, runs, jobs=-1)

A user's detector must then be importable on the workers (pickled by reference to its module).

>>> import numpy as np
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run
>>> runs = [Run.from_columns(np.arange(50), train_loss=np.full(50, 2.0), run_id=str(k)) for k in range(3)]
>>> [r.diagnosis.label for r in replay_all({"rules": RulesDetector()}, runs)["rules"]]
['lr_low', 'lr_low', 'lr_low']
"""

from __future__ import annotations

import copy
import sys
from typing import Mapping, Sequence

from joblib import Parallel, delayed
from tqdm import tqdm

from curvebench.benchmark.replay import Replay, replay
from curvebench.detectors.base import iter_steps
from curvebench.run import Run

CHUNK = 16
"""Most runs one task replays (a task is every detector on consecutive runs)."""


def replay_all(
    detectors: Mapping[str, object],
    runs: Sequence[Run],
    *,
    jobs: int = 1,
    progress: bool = False,
    desc: str | None = None,
) -> dict[str, list[Replay]]:
    """``{detector name: [one Replay per run, in order]}``; ``progress`` draws a tqdm bar on stderr."""
    runs = list(runs)
    starts = range(0, len(runs), CHUNK)
    out: dict[str, list[Replay]] = {name: [] for name in detectors}
    bar = tqdm(total=len(detectors) * len(runs), desc=desc, unit="run", file=sys.stderr, disable=not progress)
    tasks = (delayed(_replay_chunk)(detectors, runs[start : start + CHUNK]) for start in starts)
    jobs = jobs if len(starts) > 1 else 1
    with bar:
        for replays in Parallel(n_jobs=jobs, return_as="generator")(tasks):
            for name, chunk in replays.items():
                out[name].extend(chunk)
                bar.update(len(chunk))
    return out


def _replay_chunk(detectors: Mapping[str, object], runs: list[Run]) -> dict[str, list[Replay]]:
    own = copy.deepcopy(dict(detectors))
    streams = [list(iter_steps(run)) for run in runs]
    pairs = list(zip(runs, streams))
    return {name: [replay(detector, run, stream) for run, stream in pairs] for name, detector in own.items()}
