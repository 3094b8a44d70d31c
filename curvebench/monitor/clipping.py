"""``clip_gradients``: clip by global norm, on numpy arrays or torch tensors, exactly as PyTorch does it.

It follows ``torch.nn.utils.clip_grad_norm_`` step for step: the total norm is the ``norm_type``
norm of the per-array norms; every array is multiplied by ``min(max_norm / (total + 1e-6), 1)``,
computed in the arrays' own precision. So a NaN norm turns every gradient NaN and an infinite
norm zeroes the finite entries (an infinite entry becomes NaN), as in PyTorch. Unlike it, the
inputs are left alone and clipped copies are returned, with the norm as a Python float.

>>> import numpy as np
>>> clipped, norm = clip_gradients([np.array([3.0, 0.0]), np.array([[4.0]])], max_norm=1.0)
>>> norm, [np.round(g, 4).tolist() for g in clipped]
(5.0, [[0.6, 0.0], [[0.8]]])
>>> clip_gradients([np.array([0.3, 0.4])], max_norm=1.0)[0][0].tolist()
[0.3, 0.4]
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from curvebench.monitor._torch import is_tensor, require_torch

_EPS = 1e-6
"""Added to the total norm before dividing, as PyTorch does."""


def clip_gradients(
    gradients: Sequence[Any], max_norm: float = 1.0, norm_type: float = 2.0
) -> tuple[list[Any], float]:
    """Clip ``gradients`` (all numpy arrays or all torch tensors) by global norm.

    Returns ``(clipped_gradients, original_total_norm)``; an empty list has norm 0.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    gradients = list(gradients)
    if not gradients:
        return [], 0.0
    tensors = [is_tensor(g) for g in gradients]
    if all(tensors):
        return _clip_tensors(gradients, max_norm, norm_type)
    if any(tensors):
        raise TypeError("gradients must be all numpy arrays or all torch tensors, not a mix")
    return _clip_arrays([np.asarray(g) for g in gradients], max_norm, norm_type)


def _clip_arrays(gradients: list[np.ndarray], max_norm: float, norm_type: float) -> tuple[list[np.ndarray], float]:
    dtype = np.result_type(*gradients, np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.array([_array_norm(g.astype(dtype, copy=False), norm_type) for g in gradients], dtype=dtype)
        total = _array_norm(norms, norm_type)
        coefficient = np.minimum(dtype.type(max_norm) / (total + dtype.type(_EPS)), dtype.type(1.0))
        return [g * coefficient for g in gradients], float(total)


def _array_norm(values: np.ndarray, norm_type: float) -> np.floating:
    magnitudes = np.abs(values.ravel())
    if math.isinf(norm_type):
        return magnitudes.max() if magnitudes.size else magnitudes.dtype.type(0)
    if norm_type == 2.0:
        return np.sqrt(np.dot(magnitudes, magnitudes))
    return np.sum(magnitudes**norm_type) ** (1.0 / norm_type)


def _clip_tensors(gradients: list[Any], max_norm: float, norm_type: float) -> tuple[list[Any], float]:
    torch = require_torch("clip_gradients on torch tensors")
    norms = [torch.linalg.vector_norm(g.detach(), norm_type) for g in gradients]
    total = torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]), norm_type)
    coefficient = torch.clamp(max_norm / (total + _EPS), max=1.0)
    return [g.detach() * coefficient.to(g.device) for g in gradients], float(total)
