"""The compiled PCG64 draws are NumPy's own, bit for bit."""

import numpy as np

from curvebench.simulator.generator import fill_normal, fill_rows, fill_uniform, restore, states


def test_normals_and_uniforms_match_numpy_and_the_generator_goes_on_from_the_restored_state():
    seeds = np.random.SeedSequence(5).spawn(20)
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
    state = states(rngs)
    for seed, rng, row in zip(seeds, rngs, state):
        expected = np.random.Generator(np.random.PCG64(seed))
        normals, uniforms = np.empty(20_000), np.empty(300)
        fill_normal(row, normals, 0, normals.size)  # includes draws from the ziggurat's tail and wedges
        fill_uniform(row, uniforms, 0, uniforms.size)
        assert np.array_equal(normals, expected.standard_normal(normals.size))
        assert np.array_equal(uniforms, expected.random(uniforms.size))
        restore(rng, row)
        assert rng.standard_normal(3).tolist() == expected.standard_normal(3).tolist()


def test_fill_rows_draws_each_runs_parts_in_order():
    seeds = np.random.SeedSequence(6).spawn(3)
    state = states([np.random.Generator(np.random.PCG64(s)) for s in seeds])
    out = np.zeros((2, 3, 4))
    counts = np.array([[4, 2], [0, 3], [1, 0]])
    fill_rows(0, 1, 2, state, out, counts, np.array([False, True]))
    for r, seed in enumerate(seeds):
        rng = np.random.Generator(np.random.PCG64(seed))
        assert np.array_equal(out[0, r, :counts[r, 0]], rng.standard_normal(counts[r, 0]))
        assert np.array_equal(out[1, r, :counts[r, 1]], rng.random(counts[r, 1]))
