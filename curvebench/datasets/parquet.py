"""A RunSet on disk: one Parquet file, metrics as one long table, run metadata in the file's schema.

The long table has one row per (run, channel, step): columns ``run`` (index into the run
list), ``channel``, ``step``, ``value``. The run list (id, label, mode, onset, meta) is JSON
stored under the schema key ``curvebench.runs``. Values are float64 and steps int64, so the
round trip is exact, NaN and inf included; a missing value is simply an absent row.

>>> import tempfile, os
>>> from curvebench.run import Run, RunSet
>>> runs = RunSet([Run.from_columns([0, 1], train_loss=[1.0, float("inf")], run_id="a")])
>>> path = os.path.join(tempfile.mkdtemp(), "runs.parquet")
>>> write_parquet(runs, path)
>>> read_parquet(path) == runs
True
"""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curvebench.errors import InputError
from curvebench.run import Channel, Run, RunSet

FORMAT = "curvebench.runset/1"
_RUNS_KEY = b"curvebench.runs"
_FORMAT_KEY = b"curvebench.format"


def write_parquet(runs: RunSet, path: str | os.PathLike, *, compact: bool = False) -> None:
    """Write ``runs`` to one Parquet file at ``path`` (zstd-compressed).

    ``compact=True`` trades write time for size (for shipped corpora): delta-encoded steps,
    byte-stream-split values and zstd level 19; it reads back the same.
    """
    run_index, channel, steps, values, headers = [], [], [], [], []
    for i, run in enumerate(runs):
        headers.append(
            {
                "run_id": run.run_id,
                "label": run.label,
                "mode": run.mode,
                "onset_step": run.onset_step,
                "channels": list(run.channels),
                "meta": run.meta,
            }
        )
        for name, ch in run.channels.items():
            run_index.append(np.full(len(ch), i, dtype=np.int32))
            channel.append(np.full(len(ch), name, dtype=object))
            steps.append(ch.steps)
            values.append(ch.values)
    cat = (lambda parts, dtype: np.concatenate(parts) if parts else np.array([], dtype=dtype))
    table = pa.table(
        {
            "run": pa.array(cat(run_index, np.int32), pa.int32()),
            "channel": pa.array(cat(channel, object), pa.string()).dictionary_encode(),
            "step": pa.array(cat(steps, np.int64), pa.int64()),
            "value": pa.array(cat(values, np.float64), pa.float64()),
        }
    )
    try:
        header = json.dumps(headers, allow_nan=True)
    except TypeError as err:
        raise TypeError(f"run metadata must be JSON-serialisable: {err}") from None
    table = table.replace_schema_metadata({_FORMAT_KEY: FORMAT.encode(), _RUNS_KEY: header.encode()})
    if compact:
        pq.write_table(table, path, compression="zstd", compression_level=19, use_dictionary=["channel"],
                       column_encoding={"run": "DELTA_BINARY_PACKED", "step": "DELTA_BINARY_PACKED",
                                        "value": "BYTE_STREAM_SPLIT"})
    else:
        pq.write_table(table, path, compression="zstd")


def read_parquet(path: str | os.PathLike) -> RunSet:
    """Read a RunSet written by :func:`write_parquet`; :class:`InputError` on anything else."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise InputError(path, f"expected a readable Parquet file ({err})") from None
    metadata = table.schema.metadata or {}
    if metadata.get(_FORMAT_KEY) != FORMAT.encode():
        raise InputError(path, f"expected a curvebench RunSet ({FORMAT}); this Parquet file has no such header")
    headers = json.loads(metadata[_RUNS_KEY])
    run_index = table.column("run").to_numpy()
    names = table.column("channel").combine_chunks()
    names = names.dictionary_decode() if pa.types.is_dictionary(names.type) else names
    names = np.asarray(names.to_pylist(), dtype=object)
    steps = table.column("step").to_numpy()
    values = table.column("value").to_numpy()
    order = np.lexsort((steps, run_index))
    run_index, names, steps, values = run_index[order], names[order], steps[order], values[order]
    bounds = np.searchsorted(run_index, np.arange(len(headers) + 1))
    runs = []
    for i, header in enumerate(headers):
        lo, hi = bounds[i], bounds[i + 1]
        channels = {}
        run_names = names[lo:hi]
        for name in header["channels"]:
            mask = run_names == name
            channels[name] = Channel(steps[lo:hi][mask], values[lo:hi][mask])
        runs.append(
            Run(
                channels,
                label=header["label"],
                mode=header["mode"],
                onset_step=header["onset_step"],
                meta=header["meta"],
                run_id=header["run_id"],
            )
        )
    return RunSet(runs)
