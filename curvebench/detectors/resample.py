"""Runs as fixed-length multichannel arrays: what the sequence detectors (``minirocket``, ``deep``) read.

A :class:`RunSketch` takes a run step by step (O(1) amortized per step: each channel keeps at
most ``8 * length`` points and merges neighbours pairwise when full) and turns the run so far
into an array of shape ``(len(CHANNELS), length)``: the step range seen so far is cut into
``length`` equal bins, each bin holds the mean of its points, empty bins are interpolated.

Channels (``CHANNELS``): ``train`` = log(train loss / first positive train loss); ``val`` = log(val
loss / the same reference, or its own first positive value if val came first); ``grad`` = log(grad
norm / first positive grad norm); ``lr`` = lr / its largest value so far (a NaN or non-positive lr
counts as 0); ``train_nonfinite`` and ``grad_nonfinite`` = share of NaN/inf points in the bin (any
NaN/inf in val counts as ``grad_nonfinite`` too: "something blew up besides the train loss");
``has_val``, ``has_grad``, ``has_lr`` = 1 where the channel exists at all, else 0 (the channel
itself is then all 0). Logs are clipped to ``[-CLIP, CLIP]``; a NaN or +inf value counts as
``+CLIP``, a loss at or below 0 or -inf as ``-CLIP``. Any loss scale gives the same array.

>>> import numpy as np
>>> sketch = RunSketch(length=4)
>>> for step in range(8):
...     sketch.add(step, {"train_loss": 2.0 ** -step, "lr": 0.1})
>>> np.round(sketch.array()[0], 2).tolist()
[-0.35, -1.73, -3.12, -4.51]
>>> sketch.array()[CHANNELS.index("has_lr")].tolist()
[1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math

import numpy as np

from curvebench.detectors.base import iter_steps
from curvebench.run import LABELS, Run

CHANNELS: tuple[str, ...] = ("train", "val", "grad", "lr", "train_nonfinite", "grad_nonfinite",
                             "has_val", "has_grad", "has_lr")
CLIP = 20.0
"""Bound of every log channel; NaN and +inf sit at ``+CLIP``."""


class _Points:
    """At most ``capacity`` (step, value, non-finite flag) points; full, neighbours merge pairwise."""

    def __init__(self, capacity: int) -> None:
        self._data = np.empty((capacity, 3))
        self.size = 0

    def append(self, step: float, value: float, flag: float) -> None:
        if self.size == self._data.shape[0]:
            merged = (self._data[0::2] + self._data[1::2]) / 2.0
            self.size = merged.shape[0]
            self._data[: self.size] = merged
        self._data[self.size] = (step, value, flag)
        self.size += 1

    def view(self) -> np.ndarray:
        return self._data[: self.size]


class RunSketch:
    """A bounded summary of a streamed run, resampled on demand to ``length`` bins (see the module)."""

    def __init__(self, length: int = 64) -> None:
        if not isinstance(length, int) or length < 2:
            raise ValueError(f"length must be an integer >= 2, got {length!r}")
        self.length = length
        capacity = 8 * length
        self._points = {name: _Points(capacity) for name in ("train", "val", "grad", "lr")}
        self._refs: dict[str, float] = {}
        self._val_ref = ""
        self._lr_max = 0.0
        self._first: int | None = None
        self._last = 0
        self.n_train = 0
        self.n_nonfinite = 0

    def add(self, step: int, metrics: dict[str, float]) -> None:
        """Take the channels logged at ``step`` (unknown channels are ignored)."""
        if self._first is None:
            self._first = step
        self._last = step
        loss = metrics.get("train_loss")
        if loss is not None:
            self.n_train += 1
            self._add_log("train", step, loss, "train")
        val = metrics.get("val_loss")
        if val is not None:
            self._val_ref = self._val_ref or ("train" if "train" in self._refs else "val")
            self._add_log("val", step, val, self._val_ref)
        grad = metrics.get("grad_norm")
        if grad is not None:
            self._add_log("grad", step, grad, "grad")
        lr = metrics.get("lr")
        if lr is not None:
            good = math.isfinite(lr) and lr > 0
            self._lr_max = max(self._lr_max, lr) if good else self._lr_max
            self._points["lr"].append(step, lr if good else 0.0, 0.0)

    def _add_log(self, name: str, step: int, value: float, ref: str) -> None:
        finite = math.isfinite(value)
        if finite and value > 0:
            log = math.log(value)
            base = self._refs.setdefault(ref, log)
            encoded = min(max(log - base, -CLIP), CLIP)
        else:
            encoded = -CLIP if value <= 0 else CLIP  # NaN compares false: +CLIP
        self.n_nonfinite += not finite
        self._points[name].append(step, encoded, 0.0 if finite else 1.0)

    def array(self) -> np.ndarray:
        """The run so far as a ``(len(CHANNELS), length)`` float64 array."""
        out = np.zeros((len(CHANNELS), self.length))
        if self._first is None:
            return out
        first, span = self._first, self._last - self._first + 1
        for row, name in enumerate(("train", "val", "grad", "lr")):
            points = self._points[name].view()
            if not points.shape[0]:
                continue
            values, flags = self._bins(points, first, span)
            if name == "lr":
                values = values / self._lr_max if self._lr_max > 0 else values
            out[row] = values
            if name != "train":
                out[CHANNELS.index("has_" + name)] = 1.0
            if name == "train":
                out[4] = flags
            elif name in ("val", "grad"):
                out[5] = np.maximum(out[5], flags)
        return out

    def _bins(self, points: np.ndarray, first: int, span: int) -> tuple[np.ndarray, np.ndarray]:
        index = np.minimum(((points[:, 0] - first) * self.length / span).astype(np.int64), self.length - 1)
        counts = np.bincount(index, minlength=self.length)
        seen = counts > 0
        centres = np.arange(self.length, dtype=np.float64)
        result = []
        for column in (1, 2):
            sums = np.bincount(index, weights=points[:, column], minlength=self.length)
            means = sums[seen] / counts[seen]
            result.append(np.interp(centres, centres[seen], means))
        return result[0], result[1]


def sketch_run(run: Run, length: int = 64, cutoffs: list[int] | None = None) -> list[tuple[int, np.ndarray]]:
    """``(step, array)`` of ``run`` replayed up to each step of ``cutoffs`` (default: its last step).

    >>> run = Run.from_columns(list(range(40)), train_loss=[1.0 / (k + 1) for k in range(40)])
    >>> [(step, array.shape) for step, array in sketch_run(run, length=16, cutoffs=[19, 39])]
    [(19, (9, 16)), (39, (9, 16))]
    """
    wanted = set([run.last_step] if cutoffs is None else cutoffs)
    sketch = RunSketch(length)
    out = []
    for step, metrics in iter_steps(run):
        sketch.add(step, metrics)
        if step in wanted:
            out.append((step, sketch.array()))
    return out


def labeled_sketches(runs, length: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training arrays ``(n, len(CHANNELS), length)``, label indices and run indices from prefixes of labeled runs.

    The prefixes and their labels are those of every learned detector
    (:func:`~curvebench.detectors.learned.prefix_cutoffs`, ``prefix_label``): a prefix that ends
    before the run's ``onset_step`` is healthy, and prefixes that end just before a first NaN
    teach the blow-up before it shows.

    >>> runs = [Run.from_columns(list(range(100)), train_loss=[1.0] * 100, label="plateau", onset_step=60)]
    >>> X, y, groups = labeled_sketches(runs, length=16)
    >>> X.shape, y.tolist(), groups.tolist()
    ((5, 9, 16), [0, 0, 0, 4, 4], [0, 0, 0, 0, 0])
    """
    from curvebench.detectors.learned import prefix_cutoffs, prefix_label

    arrays, labels, groups = [], [], []
    for index, run in enumerate(runs):
        for step, array in sketch_run(run, length, prefix_cutoffs(run)):
            arrays.append(array)
            labels.append(LABELS.index(prefix_label(run, step)))
            groups.append(index)
    return (np.array(arrays).reshape(-1, len(CHANNELS), length), np.array(labels, dtype=np.int64),
            np.array(groups, dtype=np.int64))
