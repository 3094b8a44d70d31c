"""The suites registry: names, paths, near misses."""

from __future__ import annotations

import os

import pytest

from curvebench.benchmark.suites import available_suites, load_suite, register, spec, unregister
from curvebench.datasets import read_suite, write_parquet
from curvebench.errors import InputError
from curvebench.run import Run, RunSet

SUITE = os.path.join(os.path.dirname(__file__), "..", "data", "suite")


@pytest.fixture
def toy():
    runs = RunSet([Run.from_columns([0, 1], train_loss=[1.0, 0.5], label="healthy", run_id="t")])
    register("toy-v1", lambda: runs, description="one healthy run")
    yield runs
    unregister("toy-v1")


def test_a_registered_name_loads_its_runs(toy):
    assert "toy-v1" in available_suites() and spec("toy-v1").description == "one healthy run"
    assert load_suite("toy-v1") == toy


def test_a_name_is_registered_once(toy):
    with pytest.raises(ValueError, match="already registered"):
        register("toy-v1", lambda: toy)
    register("toy-v1", lambda: RunSet(), overwrite=True)
    assert len(load_suite("toy-v1")) == 0


def test_a_loader_must_return_a_runset():
    register("bad-v1", lambda: [1, 2])
    try:
        with pytest.raises(TypeError, match="returned list, not a RunSet"):
            load_suite("bad-v1")
    finally:
        unregister("bad-v1")


def test_other_names_are_paths_to_a_folder_or_parquet(tmp_path):
    runs = read_suite(SUITE)
    assert load_suite(SUITE) == runs
    write_parquet(runs, tmp_path / "suite.parquet")
    assert load_suite(str(tmp_path / "suite.parquet")) == runs
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="expected a labeled-suite folder"):
        load_suite(str(tmp_path / "notes.txt"))


def test_near_misses_suggest_a_name_or_a_path(toy, tmp_path):
    with pytest.raises(KeyError, match="did you mean 'toy-v1'"):
        load_suite("toy-v2")
    (tmp_path / "recorded").mkdir()
    with pytest.raises(KeyError, match="did you mean '.*recorded'"):
        load_suite(str(tmp_path / "recordd"))
