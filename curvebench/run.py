"""The one data model every part of curvebench speaks: a training ``Run`` and a ``RunSet``.

A run is a set of named numeric channels, each a step-indexed series of its own
(``val_loss`` exists only at evaluation steps, ``train_loss`` at every logged step).
A step that a channel does not list is *missing*; a listed NaN or inf is *data*
(the loss really was NaN there).

>>> import numpy as np
>>> run = Run.from_columns(step=[0, 1, 2], train_loss=[2.3, 1.9, float("nan")], label="lr_high",
...                        mode="lr_high/nan", onset_step=2)
>>> run.channel("train_loss").values
array([2.3, 1.9, nan])
>>> run.n_steps
3
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

LABELS: tuple[str, ...] = ("healthy", "lr_high", "lr_low", "overfit", "plateau")
"""The five classes a run can be labeled with."""
UNKNOWN = "unknown"
"""The label of a run nobody has labeled."""
INSUFFICIENT_DATA = "insufficient_data"
"""The verdict a detector gives a run with too few points to judge."""
CORE_CHANNELS: tuple[str, ...] = ("train_loss", "val_loss", "grad_norm", "lr")
"""Channels every part knows by name; a run may carry any other numeric channel too."""


@dataclass(frozen=True, eq=False)
class Channel:
    """One step-indexed series: integer ``steps`` (strictly increasing) and float ``values``."""

    steps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps)
        if steps.size and not np.issubdtype(steps.dtype, np.integer):
            if not np.all(np.isfinite(steps)) or np.any(steps != np.round(steps)):
                raise ValueError("steps must be integers")
        steps = steps.astype(np.int64, copy=False).reshape(-1)
        values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        if steps.shape != values.shape:
            raise ValueError(f"{steps.size} steps but {values.size} values")
        if steps.size > 1 and (steps[1:] <= steps[:-1]).any():
            raise ValueError("steps must be strictly increasing")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return int(self.steps.size)

    def __eq__(self, other: object) -> bool:
        """Exact equality; NaN equals NaN (a NaN loss is data, and data round-trips)."""
        if not isinstance(other, Channel):
            return NotImplemented
        return np.array_equal(self.steps, other.steps) and np.array_equal(
            self.values, other.values, equal_nan=True
        )

    @classmethod
    def trusted(cls, steps: np.ndarray, values: np.ndarray) -> "Channel":
        """A channel of arrays known to be valid (1-D ``int64`` strictly increasing ``steps``, ``float64``
        ``values`` of the same shape), kept as they are: no checks, no copies (for generators of many runs).

        >>> Channel.trusted(np.arange(3), np.ones(3)) == Channel([0, 1, 2], [1.0, 1.0, 1.0])
        True
        """
        channel = object.__new__(cls)
        object.__setattr__(channel, "steps", steps)
        object.__setattr__(channel, "values", values)
        return channel


@dataclass(eq=False)
class Run:
    """One training run: channels plus its ground truth and free metadata.

    ``label`` is one of :data:`LABELS` or ``"unknown"``; ``mode`` refines it
    (``"lr_high/nan"``); ``onset_step`` is where the pathology becomes present and is
    ``None`` for healthy and unknown runs. ``meta`` must be JSON-serialisable.
    """

    channels: dict[str, Channel]
    label: str = UNKNOWN
    mode: str | None = None
    onset_step: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    run_id: str = ""

    def __post_init__(self) -> None:
        if "train_loss" not in self.channels:
            raise ValueError("a run needs a 'train_loss' channel")
        for name, channel in self.channels.items():
            if not isinstance(channel, Channel):
                raise TypeError(f"channel {name!r} must be a Channel, got {type(channel).__name__}")
        if self.label not in LABELS and self.label != UNKNOWN:
            raise ValueError(f"unknown label {self.label!r}; expected one of {', '.join(LABELS)} or {UNKNOWN}")
        if self.mode is not None and not self.mode.startswith(self.label + "/"):
            raise ValueError(f"mode {self.mode!r} must start with '{self.label}/'")
        if self.onset_step is not None:
            if self.label in ("healthy", UNKNOWN):
                raise ValueError(f"a {self.label} run has no onset_step")
            self.onset_step = int(self.onset_step)

    @classmethod
    def trusted(cls, channels: dict[str, Channel], label: str, mode: str | None, onset_step: int | None,
                meta: dict[str, Any], run_id: str) -> "Run":
        """A run of arguments known to be valid (as :meth:`__init__` checks them), kept as they are: no checks
        (for generators of many runs).

        >>> run = Run.trusted({"train_loss": Channel.trusted(np.arange(2), np.ones(2))}, "healthy", None, None, {}, "")
        >>> run == Run({"train_loss": Channel([0, 1], [1.0, 1.0])}, label="healthy")
        True
        """
        run = object.__new__(cls)
        run.channels, run.label, run.mode, run.onset_step, run.meta, run.run_id = (channels, label, mode, onset_step,
                                                                                  meta, run_id)
        return run

    @classmethod
    def from_columns(
        cls,
        step: Sequence[int] | np.ndarray,
        *,
        label: str = UNKNOWN,
        mode: str | None = None,
        onset_step: int | None = None,
        meta: Mapping[str, Any] | None = None,
        run_id: str = "",
        **columns: Sequence[float] | np.ndarray,
    ) -> "Run":
        """Build a run from step-aligned columns; ``None`` in a column means missing.

        >>> Run.from_columns(step=[0, 10], train_loss=[1.0, 0.5], val_loss=[None, 0.7]).channel("val_loss").steps
        array([10])
        """
        steps = np.asarray(step)
        channels = {}
        for name, column in columns.items():
            present = np.array([v is not None for v in column], dtype=bool)
            values = np.array([np.nan if v is None else v for v in column], dtype=np.float64)
            if values.size != steps.size:
                raise ValueError(f"column {name!r} has {values.size} values for {steps.size} steps")
            channels[name] = Channel(steps[present], values[present])
        return cls(channels, label=label, mode=mode, onset_step=onset_step, meta=dict(meta or {}), run_id=run_id)

    def channel(self, name: str) -> Channel:
        """The named channel; ``KeyError`` naming the channels the run does have."""
        try:
            return self.channels[name]
        except KeyError:
            raise KeyError(f"run has no channel {name!r}; it has {sorted(self.channels)}") from None

    def has(self, name: str) -> bool:
        """Whether the run carries channel ``name`` with at least one point."""
        return name in self.channels and len(self.channels[name]) > 0

    @property
    def steps(self) -> np.ndarray:
        """Every step at which any channel has a value, sorted."""
        return np.unique(np.concatenate([c.steps for c in self.channels.values()]))

    @property
    def n_steps(self) -> int:
        """Number of logged training-loss points."""
        return len(self.channels["train_loss"])

    @property
    def last_step(self) -> int | None:
        """The last step of any channel, or ``None`` for an empty run."""
        steps = self.steps
        return int(steps[-1]) if steps.size else None

    def to_frame(self):
        """A wide ``pandas.DataFrame`` indexed by step (missing cells become NaN: for viewing only)."""
        import pandas as pd

        series = {name: pd.Series(c.values, index=c.steps) for name, c in self.channels.items()}
        frame = pd.DataFrame(series, index=pd.Index(self.steps, name="step"))
        return frame

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        return (
            self.channels.keys() == other.channels.keys()
            and all(self.channels[k] == other.channels[k] for k in self.channels)
            and (self.label, self.mode, self.onset_step, self.run_id)
            == (other.label, other.mode, other.onset_step, other.run_id)
            and _meta_equal(self.meta, other.meta)
        )

    def __repr__(self) -> str:
        onset = "" if self.onset_step is None else f", onset_step={self.onset_step}"
        mode = "" if self.mode is None else f", mode={self.mode!r}"
        return (
            f"Run(id={self.run_id!r}, label={self.label!r}{mode}{onset}, "
            f"steps={self.n_steps}, channels={sorted(self.channels)})"
        )


def _meta_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_meta_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_meta_equal(x, y) for x, y in zip(a, b))
    return a == b


class RunSet(Sequence[Run]):
    """An ordered collection of runs: what simulators and loaders produce and benchmarks consume.

    >>> runs = RunSet([Run.from_columns([0, 1], train_loss=[1.0, 0.9], label="lr_low", onset_step=0)])
    >>> runs.labels
    ['lr_low']
    """

    def __init__(self, runs: Iterable[Run] = ()) -> None:
        self._runs = list(runs)
        for run in self._runs:
            if not isinstance(run, Run):
                raise TypeError(f"a RunSet holds Runs, got {type(run).__name__}")

    def __len__(self) -> int:
        return len(self._runs)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return RunSet(self._runs[index])
        return self._runs[index]

    def __iter__(self) -> Iterator[Run]:
        return iter(self._runs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunSet):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __add__(self, other: "RunSet") -> "RunSet":
        return RunSet([*self._runs, *other])

    def __repr__(self) -> str:
        counts = {label: self.labels.count(label) for label in dict.fromkeys(self.labels)}
        return f"RunSet({len(self)} runs, {counts})"

    @property
    def labels(self) -> list[str]:
        """The label of each run, in order."""
        return [run.label for run in self._runs]

    def filter(self, predicate) -> "RunSet":
        """The runs for which ``predicate(run)`` is true."""
        return RunSet(run for run in self._runs if predicate(run))
