import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.monitor import clip_gradients


def _grads(rng, dtype, scale):
    shapes = [(7, 5), (5,), (3, 2, 2)]
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]


def _torch_reference(grads, max_norm, norm_type=2.0):
    torch = pytest.importorskip("torch")
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return [p.grad.numpy() for p in params], float(norm)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_matches_torch_clip_grad_norm(dtype, rtol, max_norm, norm_type):
    grads = _grads(np.random.default_rng(0), dtype, scale=3.0)
    expected, expected_norm = _torch_reference(grads, max_norm, norm_type)
    clipped, norm = clip_gradients(grads, max_norm, norm_type=norm_type)
    assert norm == pytest.approx(expected_norm, rel=rtol)
    for ours, theirs in zip(clipped, expected):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_gradients_behave_like_torch(dtype, bad):
    grads = _grads(np.random.default_rng(1), dtype, scale=1.0)
    grads[1][2] = bad
    expected, expected_norm = _torch_reference(grads, 1.0)
    clipped, norm = clip_gradients(grads, 1.0)
    assert np.array_equal(norm, expected_norm, equal_nan=True)
    for ours, theirs in zip(clipped, expected):
        np.testing.assert_array_equal(ours, theirs)


def test_torch_tensors_match_torch_and_are_not_modified():
    torch = pytest.importorskip("torch")
    grads = _grads(np.random.default_rng(2), np.float32, scale=5.0)
    tensors = [torch.from_numpy(g.copy()) for g in grads]
    expected, expected_norm = _torch_reference(grads, 1.0)
    clipped, norm = clip_gradients(tensors, 1.0)
    assert norm == expected_norm
    for ours, theirs, original, before in zip(clipped, expected, tensors, grads):
        assert torch.equal(ours, torch.from_numpy(theirs))
        np.testing.assert_array_equal(original.numpy(), before)


def test_inputs_are_not_modified_and_empty_list_has_norm_zero():
    grads = [np.array([30.0, 40.0])]
    clip_gradients(grads, 1.0)
    assert grads[0].tolist() == [30.0, 40.0]
    assert clip_gradients([], 1.0) == ([], 0.0)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients([np.ones(2)], -1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients([np.ones(2)], math.nan)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="mix"):
        clip_gradients([np.ones(2), torch.ones(2)], 1.0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6), min_size=1, max_size=4),
    st.floats(1e-3, 1e3),
)
def test_clipped_norm_never_exceeds_max_norm_and_direction_is_kept(values, max_norm):
    grads = [np.array(v) for v in values]
    clipped, norm = clip_gradients(grads, max_norm)
    new_norm = math.sqrt(sum(float(np.dot(g, g)) for g in clipped))
    assert new_norm <= max_norm * (1 + 1e-9) or new_norm == pytest.approx(norm)
    scale = min(1.0, max_norm / (norm + 1e-6))
    for g, c in zip(grads, clipped):
        np.testing.assert_allclose(c, g * scale, rtol=1e-12, atol=1e-300)
