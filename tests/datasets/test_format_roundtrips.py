"""Property tests: Run -> CSV -> Run, RunSet -> Parquet -> RunSet and write_suite -> read_suite are exact,
NaN, inf, -inf and missing values included."""

import io
import math
import os
import string
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.datasets import read_csv, read_parquet, read_suite, write_parquet, write_suite
from curvebench.datasets.csv_run import to_csv_text
from curvebench.run import LABELS, UNKNOWN, Channel, Run, RunSet

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]),
)
CSV_NAMES = st.text(alphabet=string.ascii_letters + string.digits + "_-./:, \"'", min_size=1, max_size=10).filter(
    lambda name: name == name.strip() and name not in ("step", "train_loss")
)
MODE_SUFFIX = st.text(alphabet=string.ascii_lowercase + "_-/ ,", min_size=1, max_size=8).filter(
    lambda text: text == text.strip()
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | VALUES | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def runs(draw, names=CSV_NAMES, steps=st.integers(0, 10**12), run_id=st.just(""), meta=st.just({})):
    """A run with sparse channels over a shared pool of steps; at least one point in all."""
    pool = sorted(draw(st.lists(steps, min_size=1, max_size=25, unique=True)))
    channels = {}
    for name in ["train_loss", *draw(st.lists(names, max_size=4, unique=True))]:
        present = draw(st.lists(st.booleans(), min_size=len(pool), max_size=len(pool)))
        kept = [step for step, keep in zip(pool, present) if keep]
        values = draw(st.lists(VALUES, min_size=len(kept), max_size=len(kept)))
        channels[name] = Channel(np.array(kept, dtype=np.int64), np.array(values, dtype=np.float64))
    if not any(len(channel) for channel in channels.values()):
        channels["train_loss"] = Channel(np.array([pool[0]]), np.array([draw(VALUES)]))
    label = draw(st.sampled_from([*LABELS, UNKNOWN]))
    has_onset = label not in ("healthy", UNKNOWN)
    return Run(
        channels,
        label=label,
        mode=draw(st.none() | MODE_SUFFIX.map(lambda suffix: f"{label}/{suffix}")),
        onset_step=draw(st.none() | st.integers(0, 10**9)) if has_onset else None,
        meta=draw(meta),
        run_id=draw(run_id),
    )


@given(runs())
def test_run_csv_round_trip_is_exact(run):
    back = read_csv(io.StringIO(to_csv_text(run)))
    assert back.channels == run.channels


@given(
    st.lists(
        runs(
            names=st.text(max_size=10).filter(lambda name: name != "train_loss"),
            steps=st.integers(-(2**62), 2**62),
            run_id=st.text(max_size=10),
            meta=st.dictionaries(st.text(max_size=6), JSON, max_size=4),
        ),
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None)
def test_runset_parquet_round_trip_is_exact(run_list):
    runs_in = RunSet(run_list)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "runs.parquet")
        write_parquet(runs_in, path)
        assert read_parquet(path) == runs_in


SAFE_IDS = st.from_regex(r"[a-z0-9_][a-z0-9_.=+-]{0,6}(/[a-z0-9_][a-z0-9_.=+-]{0,6})?", fullmatch=True).filter(
    lambda run_id: not run_id.startswith(("run-", "labels"))
)


@st.composite
def suites(draw):
    ids = draw(st.lists(st.just("") | SAFE_IDS, min_size=1, max_size=4))
    named = [run_id for run_id in ids if run_id]
    folders = {"/".join(run_id.split("/")[:-1]) for run_id in named}
    if len(set(named)) != len(named) or any(f"{run_id}.csv" in folders for run_id in named):
        ids = [""] * len(ids)
    return RunSet([draw(runs(run_id=st.just(run_id))) for run_id in ids])


@given(suites())
@settings(max_examples=40, deadline=None)
def test_read_suite_of_write_suite_round_trips(runs_in):
    with tempfile.TemporaryDirectory() as folder:
        write_suite(runs_in, folder, overwrite=True)
        back = read_suite(folder)
    assert len(back) == len(runs_in)
    for i, (before, after) in enumerate(zip(runs_in, back)):
        assert after.channels == before.channels
        assert (after.label, after.mode, after.onset_step) == (before.label, before.mode, before.onset_step)
        assert after.run_id == (before.run_id or f"run-{i:05d}")
        assert after.meta["source"] == "user" and after.meta["format"] == "csv"
