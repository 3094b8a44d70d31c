"""The compiled PCG64 generators are NumPy's own, bit for bit: seeding, uniforms and normals."""

import numpy as np

from curvebench.simulator.generator import fill_normal, fill_rows, seeded, skip_normals, spawned, uniforms


def test_spawned_and_seeded_states_draw_what_numpy_generators_draw():
    for entropy in (0, 7, 2**32, 2**100 + 5):
        sequences = np.random.SeedSequence(entropy).spawn(50)
        expected = np.stack([np.random.Generator(np.random.PCG64(s)).random(3) for s in sequences])
        assert np.array_equal(uniforms(spawned(entropy, 50), 3), expected)
        assert np.array_equal(uniforms(seeded(sequences), 3), expected)
    odd = np.random.SeedSequence(5, spawn_key=(3, 4), pool_size=8)
    assert np.array_equal(uniforms(seeded([odd]), 4)[0], np.random.Generator(np.random.PCG64(odd)).random(4))


def test_normals_and_uniforms_match_numpy():
    state = spawned(5, 20)
    for row, sequence in zip(state, np.random.SeedSequence(5).spawn(20)):
        expected = np.random.Generator(np.random.PCG64(sequence))
        normals = np.empty(20_000)
        fill_normal(row, normals, 0, normals.size)  # includes draws from the ziggurat's tail and wedges
        assert np.array_equal(normals, expected.standard_normal(normals.size))
        assert np.array_equal(uniforms(row[None], 300)[0], expected.random(300))
        skip_normals(row[None], np.array([0]), np.array([7]))
        expected.standard_normal(7)
        assert np.array_equal(uniforms(row[None], 2)[0], expected.random(2))


def test_fill_rows_draws_each_runs_parts_in_order():
    state = spawned(6, 3)
    out = np.zeros((2, 2, 4))
    counts = np.array([[4, 2], [1, 0]])
    fill_rows(0, 1, 2, state, np.array([2, 0]), out, counts, np.array([False, True]))
    for i, r in enumerate((2, 0)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(6).spawn(3)[r]))
        assert np.array_equal(out[0, i, :counts[i, 0]], rng.standard_normal(counts[i, 0]))
        assert np.array_equal(out[1, i, :counts[i, 1]], rng.random(counts[i, 1]))
