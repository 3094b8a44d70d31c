"""Merge step-tagged records into a run's channels, for logs that write several records per step.

HuggingFace's ``log_history`` and Lightning's ``metrics.csv`` write one record per logging
call: a training record and an evaluation record may share a step, each carrying some of the
metrics. :class:`ChannelBuilder` merges them, insisting that steps never decrease and that no
channel gets two different values at one step (a repeated equal value, such as the epoch of
two rows at one step, is one value). :class:`ChannelNamer` turns the log's own names into
channel names: the user's mapping first, then the format's defaults.

>>> builder = ChannelBuilder("metrics.csv")
>>> builder.add(49, line=2, values={"lr": 1e-3})
>>> builder.add(49, line=3, values={"train_loss": 0.9})
>>> builder.add(99, line=4, values={"train_loss": 0.7})
>>> channels = builder.channels()
>>> channels["train_loss"].steps, channels["lr"].values
(array([49, 99]), array([0.001]))
"""

from __future__ import annotations

import math
import os
from typing import Callable, Iterable, Mapping

import numpy as np

from curvebench.errors import InputError
from curvebench.run import Channel


class ChannelNamer:
    """Names each source column or key once: ``mapping`` wins, else ``default(name)``; ``""`` drops it.

    Two sources that end up with the same channel name are an error, not a silent merge.

    >>> namer = ChannelNamer(lambda key: {"loss": "train_loss"}.get(key, key), {"acc": ""}, path="log.json")
    >>> namer.name("loss", line=3), namer.name("acc", line=3), namer.name("eval_f1", line=9)
    ('train_loss', '', 'eval_f1')
    """

    def __init__(
        self, default: Callable[[str], str], mapping: Mapping[str, str] | None, *, path: str | os.PathLike | None
    ) -> None:
        self.default = default
        self.mapping = dict(mapping or {})
        self.path = path
        self._names: dict[str, str] = {}
        self._sources: dict[str, str] = {}

    def name(self, source: str, *, line: int) -> str:
        """The channel name for ``source`` (first seen at ``line``)."""
        if source in self._names:
            return self._names[source]
        name = self.mapping[source] if source in self.mapping else self.default(source)
        if name and name in self._sources:
            raise InputError(
                self.path,
                f"expected one source per channel; {self._sources[name]!r} and {source!r} both become "
                f"channel {name!r} (drop one with --map {source}=)",
                line=line,
            )
        self._names[source] = name
        if name:
            self._sources[name] = source
        return name


class ChannelBuilder:
    """Collects ``(step, {channel: value})`` records in file order; see the module docstring.

    ``names`` declares channels up front (in that order), so a column with no value at all
    still becomes an empty channel, as in the run CSV format.
    """

    def __init__(self, path: str | os.PathLike | None, names: Iterable[str] = ()) -> None:
        self.path = path
        self._series: dict[str, tuple[list[int], list[float], list[int]]] = {n: ([], [], []) for n in names}
        self._last: tuple[int, int] | None = None

    def add(self, step: int, *, line: int, values: Mapping[str, float]) -> None:
        """Add the record logged at ``step`` on ``line`` of the file; a record without values is skipped."""
        if not values:
            return
        if self._last is not None and step < self._last[0]:
            raise InputError(
                self.path,
                f"expected steps that never decrease; step {step} comes after step {self._last[0]} "
                f"(line {self._last[1]}); a metric logged on its own step counter can be dropped with "
                f"--map NAME= (this record has {', '.join(values)})",
                line=line,
                column="step",
            )
        self._last = (step, line)
        for name, value in values.items():
            steps, series, lines = self._series.setdefault(name, ([], [], []))
            if steps and steps[-1] == step:
                if _same(series[-1], value):
                    continue
                raise InputError(
                    self.path,
                    f"expected one value per step; channel {name!r} has two different values at step {step} "
                    f"(line {lines[-1]} has {series[-1]!r})",
                    line=line,
                    column=name,
                    found=value,
                )
            steps.append(step)
            series.append(value)
            lines.append(line)

    def channels(self) -> dict[str, Channel]:
        """The merged channels, in the order they were declared or first seen."""
        return {
            name: Channel(np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64))
            for name, (steps, values, _) in self._series.items()
        }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))
