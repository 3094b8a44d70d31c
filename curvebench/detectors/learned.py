"""The one streaming wrapper of every learned detector, and the training set they all learn from.

**Streaming.** :class:`LearnedDetector` hands each step to its subclass's ``_observe`` (O(1)
amortized: append to a buffer) and re-predicts only when the number of train-loss points ``n``
reaches the next check point: from ``min_points`` on, the next check comes at
``max(n + 1, ceil(n * (1 + growth)))``, so at every point while the run is short and at every
``growth`` (10%) of growth after that; the first non-finite train loss or gradient norm gets a
check at once (:func:`check_points`). A check (``_predict``) costs one pass over the run so far
(or over a fixed-size sketch of it) plus one prediction; a run of ``n`` points pays O(log n)
checks whose costs add up to O(n): amortized O(1) per ``update``. Between checks ``update``
returns the last verdict. ``onset_step`` is the step of the first check of the final streak of
checks that all gave the final label. Subclasses: the feature-vector detectors
(:class:`~curvebench.detectors.vector.VectorDetector`: ``features``, ``deepfd``) and the
sequence detectors (:class:`~curvebench.detectors.sequence.SequenceDetector`: ``minirocket``,
``deep``).

**Training set.** :func:`training_runs` simulates runs (every mode, severity, length, missing
channels of the simulator) from a seed and may add the recorded runs of given task families;
every learned detector learns from prefixes of them (:func:`prefix_cutoffs`: :data:`PREFIXES` of
a run's train points, and the points just before a first non-finite loss) labeled with what the
run shows by then (:func:`prefix_label`): a prefix that ends before ``onset_step`` is
``healthy``, unless a blow-up already shows before a NaN. So early verdicts in a stream are
trained for, and a blow-up that precedes a NaN is labeled ``lr_high`` before the NaN arrives.

>>> from curvebench.run import Run
>>> run = Run.from_columns(range(100), train_loss=[1.0] * 100, label="plateau", onset_step=60)
>>> [(cut, prefix_label(run, cut)) for cut in prefix_cutoffs(run)]
[(14, 'healthy'), (29, 'healthy'), (49, 'healthy'), (74, 'plateau'), (99, 'plateau')]
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.run import CORE_CHANNELS, LABELS, Run, RunSet

PREFIXES = (0.15, 0.3, 0.5, 0.75, 1.0)
"""Shares of a run's train points at which training prefixes end."""
BEFORE_NAN = (1, 4, 16)
"""Training prefixes end this many finite points before a run's first non-finite loss."""
WATCHED = ("train_loss", "grad_norm")
"""A first non-finite value in these channels triggers a check off schedule."""
BLOWN_UP = 3.0
"""A loss this many times its lowest so far, just before a NaN, already shows the blow-up."""
Series = tuple[np.ndarray, np.ndarray]


class LearnedDetector(Detector):
    """The streaming shell of a learned detector; see the module.

    Subclasses set ``name`` and write ``_start()`` (fresh buffers), ``_observe(step, metrics)``
    (take one step, O(1) amortized) and ``_predict() -> (probabilities, evidence)`` (the run so
    far, in :data:`LABELS` order). ``min_points`` train-loss points are needed for a verdict.
    Training: ``train(seed, n_simulated, families)`` fits on :func:`training_runs` and returns
    the detector, ``save(path)`` writes parameters (file type ``suffix``) and their ``training_recipe``.
    """

    suffix = ".npz"
    """The file type of saved parameters."""

    def __init__(self, growth: float = 0.1, min_points: int = 5) -> None:
        if not 0 < growth <= 10:
            raise ValueError(f"growth must be in (0, 10], got {growth!r}")
        if not isinstance(min_points, int) or min_points < 2:
            raise ValueError(f"min_points must be an integer >= 2, got {min_points!r}")
        self.growth = growth
        self.min_points = min_points
        super().__init__()

    def _reset(self) -> None:
        self._count = 0
        self._due = self.min_points
        self._seen_bad = False
        self._verdict: Diagnosis | None = None
        self._start()

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        """Take one logged step; the verdict so far (``None`` before ``min_points`` train points)."""
        self._observe(step, metrics)
        has_train = "train_loss" in metrics
        self._count += has_train
        if not self._seen_bad and any(not math.isfinite(metrics[name]) for name in WATCHED if name in metrics):
            self._seen_bad = True  # check at this (or the next) train point, off schedule
            self._due = min(self._due, max(self._count + (not has_train), self.min_points))
        if not has_train or self._count < self._due:
            return self._verdict
        self._due = next_check(self._count, self.growth)
        probs, evidence = self._predict()
        previous = self._verdict
        label = LABELS[int(np.argmax(probs))]
        onset = previous.onset_step if previous is not None and previous.label == label else step
        self._verdict = verdict(probs, evidence, onset)
        return self._verdict

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        if diagnosis is None:
            return Diagnosis.insufficient(len(run.channels["train_loss"]), self.min_points)
        return diagnosis

    def _start(self) -> None:
        raise NotImplementedError

    def _observe(self, step: int, metrics: dict[str, float]) -> None:
        raise NotImplementedError

    def _predict(self) -> tuple[np.ndarray, list[str]]:
        raise NotImplementedError

    def train(self, seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> "LearnedDetector":
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        raise NotImplementedError

    @property
    def training_recipe(self) -> dict:
        """How the current parameters were trained (see :func:`recipe`); empty when unknown."""
        return getattr(self, "meta_", {})


def verdict(probs: np.ndarray, evidence: list[str], onset: int) -> Diagnosis:
    """The diagnosis of label probabilities ``probs`` (argmax wins; a healthy one has no onset)."""
    label = LABELS[int(np.argmax(probs))]
    return Diagnosis(label, {k: float(p) for k, p in zip(LABELS, probs)},
                     onset_step=None if label == "healthy" else onset, evidence=evidence)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, finite for any finite input.

    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def held_out(groups: np.ndarray, seed: int, share: float = 0.2) -> np.ndarray:
    """Which training rows to hold out for calibration: every row of a random ``share`` of the runs.

    ``groups`` holds each row's run index; a run's prefixes all land on the same side.

    >>> held_out(np.array([0, 0, 1, 1, 2, 2, 3, 3]), seed=1, share=0.5).tolist()
    [False, False, False, False, True, True, False, False]
    """
    return (np.random.default_rng(seed).random(int(groups.max()) + 1) < share)[groups]


def next_check(count: int, growth: float) -> int:
    """The train-point count of the check after the one at ``count``.

    >>> [next_check(n, 0.1) for n in (5, 10, 11, 100)]
    [6, 11, 13, 111]
    """
    return max(count + 1, math.ceil(count * (1.0 + growth)))


def check_points(n: int, min_points: int, growth: float, trigger: int | None = None) -> list[int]:
    """Every train-point count at which a run of ``n`` train points is checked.

    ``trigger`` is the count at which the first non-finite loss or gradient norm arrives: it
    gets a check of its own, and the schedule goes on from there.

    >>> check_points(20, 5, 0.25), check_points(20, 5, 0.25, trigger=8)
    ([5, 7, 9, 12, 15, 19], [5, 7, 8, 10, 13, 17])
    """
    points, due = [], min_points
    while True:
        if trigger is not None and trigger < due and (not points or trigger > points[-1]):
            due = max(trigger, min_points)
        if due > n:
            return points
        points.append(due)
        due = next_check(due, growth)


def core_series(run: Run) -> dict[str, Series]:
    """The run's core channels as ``{name: (steps, values)}`` float arrays."""
    return {name: (run.channels[name].steps.astype(np.float64), run.channels[name].values)
            for name in CORE_CHANNELS if name in run.channels}


def prefix(channels: dict[str, Series], cutoff: int) -> dict[str, Series]:
    """Every channel up to and including step ``cutoff``."""
    out = {}
    for name, (steps, values) in channels.items():
        end = int(np.searchsorted(steps, cutoff, side="right"))
        out[name] = (steps[:end], values[:end])
    return out


def prefix_cutoffs(run: Run) -> list[int]:
    """The last steps of the training prefixes of ``run`` (sorted, distinct)."""
    train = run.channels["train_loss"]
    n = len(train)
    if n == 0:
        return []
    counts = {max(2, math.ceil(share * n)) for share in PREFIXES}
    bad = np.flatnonzero(~np.isfinite(train.values))
    if bad.size:
        counts |= {int(bad[0]) - back for back in BEFORE_NAN if int(bad[0]) - back >= 5}
    return sorted(int(train.steps[min(c, n) - 1]) for c in counts)


def prefix_label(run: Run, cutoff: int) -> str:
    """What a prefix ending at ``cutoff`` shows: ``healthy`` before the run's onset, else its label.

    Before a NaN (a run whose onset is its first non-finite loss) a prefix whose last loss is
    already ``BLOWN_UP`` times its lowest is ``lr_high``: the blow-up is there to see.
    """
    if run.onset_step is None or cutoff >= run.onset_step:
        return run.label
    train = run.channels["train_loss"]
    shown = train.values[(train.steps <= cutoff) & np.isfinite(train.values)]
    if run.label == "lr_high" and shown.size and not np.isfinite(train.values).all():
        lowest = float(np.min(shown))
        if lowest > 0 and shown[-1] > BLOWN_UP * lowest:
            return "lr_high"
    return "healthy"


def training_runs(seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> RunSet:
    """``n_simulated`` runs simulated from ``seed``, plus the recorded runs of task ``families``."""
    from curvebench.simulator import simulate_many

    runs = simulate_many(n_simulated, seed=seed)
    if families:
        from curvebench.datasets import load

        runs = runs + load("recorded-cpu").filter(lambda run: run.meta.get("task") in families)
    return runs


def recipe(name: str, seed: int, n_simulated: int, families: tuple[str, ...], X: np.ndarray,
           y: np.ndarray) -> dict:
    """What a detector's parameters were trained on and how to rebuild them (saved as their ``meta``)."""
    import sklearn

    from curvebench.simulator.batch import GENERATOR

    command = f"curvebench train --detector {name} --seed {seed} --n-simulated {n_simulated}"
    return {
        "detector": name, "seed": seed, "command": command + "".join(f" --family {f}" for f in families),
        "training_data": f"simulate_many({n_simulated}, seed={seed}) (all labels and modes)"
        + (f" + recorded-cpu runs of {', '.join(families)}" if families else ""),
        "prefixes": list(PREFIXES), "before_nan": list(BEFORE_NAN), "labels": list(LABELS),
        "simulator": GENERATOR, "training_rows_sha256": _digest(X, y), "numpy": np.__version__,
        "sklearn": sklearn.__version__,
    }


def _digest(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the training rows: tells whether a retraining saw the same data (e.g. the same simulator)."""
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` of plain arrays, the same bytes for the same arrays (fixed timestamps)."""
    with zipfile.ZipFile(os.fspath(path), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.require(array, requirements="C"), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                             buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


def save_meta(path: str | os.PathLike, meta: dict) -> None:
    """Write ``meta`` as sorted JSON beside the parameters ``path`` (same name, ``.json``), with the sha256
    of the parameter file (written first) that :func:`verified` checks on loading."""
    with open(meta_path(path), "w", encoding="utf-8") as handle:
        json.dump({**meta, "sha256": _file_digest(path)}, handle, indent=1, sort_keys=True)
        handle.write("\n")


def verified(path: str | os.PathLike) -> str:
    """``path``, once its bytes match the sha256 its ``.json`` records (:func:`save_meta`); files without
    a ``.json`` beside them, or one without a checksum, are not checked. :class:`InputError` on a mismatch.
    """
    from curvebench.errors import InputError

    path = os.fspath(path)
    try:
        with open(meta_path(path), encoding="utf-8") as handle:
            expected = json.load(handle).get("sha256")
    except FileNotFoundError:
        return path
    except (OSError, ValueError, AttributeError) as err:
        raise InputError(meta_path(path), "the JSON recipe of detector parameters", found=str(err)) from None
    found = None if expected is None else _file_digest(path)
    if found != expected:
        raise InputError(path, f"detector parameters with sha256 {expected} (as {meta_path(path)} records)",
                         found=f"sha256 {found}: the file was changed or damaged")
    return path


def _file_digest(path: str | os.PathLike) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def meta_path(path: str | os.PathLike) -> str:
    """The ``.json`` beside parameters ``path``.

    >>> meta_path("params/deep.pt"), meta_path("features.npz")
    ('params/deep.json', 'features.json')
    """
    return os.path.splitext(os.fspath(path))[0] + ".json"
