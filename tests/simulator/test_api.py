"""The simulate / simulate_many API: ids, meta, knobs, labels, variety and bad arguments."""

import json
import re

import numpy as np
import pytest

from curvebench.simulator import simulate, simulate_many
from curvebench.simulator.api import _small_pages
from curvebench.simulator.knobs import UNIFORMS_PER_RUN
from curvebench.simulator.scenarios import sample_knobs
from curvebench.simulator.schedules import SCHEDULES


def test_runs_have_unique_file_safe_ids_and_json_meta():
    runs = simulate_many(25, seed=1, steps=300)
    ids = [run.run_id for run in runs]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*", run_id) for run_id in ids)
    for run in runs:
        meta = json.loads(json.dumps(run.meta, allow_nan=False))
        assert meta["source"] == "simulated" and meta["seed"] == 1
        assert meta["generator"].startswith("curvebench.simulator ")
        assert meta["knobs"]["steps"] == 300
        assert run.mode.startswith(run.label + "/")


def test_labels_cycle_and_modes_can_be_fixed():
    runs = simulate_many(6, labels=["overfit", "plateau"], modes=["overfit/memorization", "plateau/stuck"],
                         seed=0, steps=200)
    assert runs.labels == ["overfit", "plateau"] * 3
    assert {run.mode for run in runs} == {"overfit/memorization", "plateau/stuck"}


def test_knob_overrides_apply_and_unknown_knobs_are_refused():
    run = simulate("healthy", seed=0, steps=400, log_every=5, log_reduce="last", has_val=False, schedule="cosine")
    assert run.channel("train_loss").steps[:3].tolist() == [0, 5, 10]
    assert not run.has("val_loss")
    assert run.meta["knobs"]["schedule"] == "cosine"
    with pytest.raises(KeyError, match="unknown knob"):
        simulate("healthy", seed=0, steps=100, learning_rate=1.0)


def test_bad_arguments_are_refused_with_their_reason():
    with pytest.raises(KeyError, match="did you mean"):
        simulate("overfitt")
    with pytest.raises(ValueError, match="severity"):
        simulate("overfit", severity=2.0)
    with pytest.raises(ValueError, match="not a mode of label"):
        simulate_many(2, labels=["healthy"], modes=["lr_high/nan"])


def test_knobs_vary_in_scale_length_logging_noise_and_channels():
    knobs = sample_knobs("healthy/smooth", np.random.default_rng(0).random((400, UNIFORMS_PER_RUN)))
    assert knobs["steps"].min() < 100 and knobs["steps"].max() > 20000
    assert {0, 2} <= set(knobs["n_classes"].tolist()) and knobs["n_classes"].max() >= 1000
    assert len(set(knobs["log_every"].tolist())) > 10
    assert {"mean", "last"} <= set(knobs["log_reduce"].tolist())
    assert {"skewed", "gaussian", "symmetric"} == set(knobs["noise_shape"].tolist())
    assert set(knobs["schedule"].tolist()) == set(SCHEDULES)
    for name in ("has_val", "has_grad_norm", "has_lr"):
        assert 0.5 < knobs[name].mean() < 0.95
    assert knobs["chance_loss"].max() / knobs["chance_loss"].min() > 100


def test_missing_channels_are_missing_in_the_runs():
    runs = simulate_many(30, seed=3, steps=200)
    present = [frozenset(run.channels) for run in runs]
    assert all("train_loss" in p for p in present)
    for name in ("val_loss", "grad_norm", "lr"):
        assert any(name not in p for p in present) and any(name in p for p in present)


@pytest.mark.parametrize("setting", [True, False])
def test_a_batch_leaves_numpys_huge_page_setting_as_it_found_it(setting):
    switch = np._core.multiarray._set_madvise_hugepage
    seen = []
    previous = switch(setting)
    try:
        with _small_pages():
            seen.append(switch(False))  # what a batch runs with
            simulate_many(2, steps=50)  # nested: the outer setting survives the inner batch
            seen.append(switch(False))
        seen.append(switch(setting))
    finally:
        switch(previous)
    assert seen == [False, False, setting]
