"""Same seed, same bits; different seeds, different runs; a run never depends on its batch."""

import numpy as np
import pytest

from curvebench.run import LABELS
from curvebench.simulator import SCENARIOS, batch, child_seeds, simulate, simulate_many


@pytest.mark.parametrize("mode", list(SCENARIOS))
def test_same_seed_gives_bit_identical_runs(mode):
    label = mode.split("/")[0]
    first = simulate(label, mode=mode, seed=11, steps=300)
    second = simulate(label, mode=mode, seed=11, steps=300)
    assert first == second
    for name, channel in first.channels.items():
        assert np.array_equal(channel.values, second.channel(name).values, equal_nan=True)


def test_different_seeds_give_different_runs():
    runs = [simulate("healthy", seed=seed, steps=200) for seed in range(5)]
    firsts = {tuple(run.channel("train_loss").values[:20]) for run in runs}
    assert len(firsts) == 5


def test_a_run_of_many_equals_the_run_simulated_alone_from_its_child_seed():
    runs = simulate_many(12, seed=10)
    assert len({run.meta["knobs"]["steps"] for run in runs}) >= 10  # runs of many lengths share the batch
    seeds = child_seeds(10, 12)
    for i in range(0, 12, 2):
        assert runs[i] == simulate(LABELS[i % len(LABELS)], seed=seeds[i])


def test_chunking_does_not_change_any_run(monkeypatch):
    whole = simulate_many(30, seed=9, steps=400)
    monkeypatch.setattr(batch, "CHUNK_ELEMENTS", 1)
    monkeypatch.setattr(batch, "MIN_CHUNK_RUNS", 3)
    assert simulate_many(30, seed=9, steps=400) == whole
