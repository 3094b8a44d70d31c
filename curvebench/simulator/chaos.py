"""Chaos before a NaN: the wild swings of a loss on its way to overflow.

Past the edge of stability a network leaves its quadratic basin and each step lands somewhere else on
a rough landscape, so the growth of the unstable direction is a product of random per-step factors: the
log of its size is a random walk with drift (Furstenberg & Kesten, 1960), not the straight line of the
quadratic model's expected loss. The recorded NaN runs show it: a digits MLP logs 2.5, 7.2, 13, 7.4, 49,
103, 3.2, 9.7, 9.0, 1042, 41, 164, ..., 4.4e5, 2.7e10, 5.1e7, 1.2e13 before its NaN, the gradient norm
following the loss (``curvebench/datasets/README.md``'s corpus).

Here each logged point's climb ``y = log(loss / m)`` (``m`` the running minimum of the model's loss, so
``y = 0`` before the climb), as a share ``u = y / Y`` of the climb ``Y = log(overflow / m)`` to the overflow
level, becomes ``u ** exp(chaos * z)``, ``z`` a unit normal per point: the swings are widest halfway up and
close as the loss nears overflow, so the loss stays between ``m`` and the overflow level and the run still
goes NaN where the model overflows (recorded: the last finite loss is the largest, 1e8-1e34 times the
first). The gradient norm moves with the loss, and an evaluation takes the factor of the last logged point
at or before its step. ``chaos = 0`` is an exact no-op.

>>> loss, grad, val = np.array([[2.0, 4.0, 8.0, np.nan]]), np.ones((1, 4)), np.full((1, 1), 3.0)
>>> apply_chaos(loss, np.array([[0.0, 1.0, -1.0, 3.0]]), np.array([4]), np.array([0.5]), np.array([40.0]),
...             grad, np.arange(4)[None, :], val, np.array([[2]]), np.array([1]))
>>> loss.round(3).tolist(), grad.round(3).tolist(), val.round(3).tolist()
([[2.0, 2.615, 13.071, nan]], [[1.0, 0.654, 1.634, 1.0]], [[4.902]])
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def apply_chaos(expected, z, counts, chaos, overflow, grad, steps, val, val_steps, val_counts) -> None:
    """Make the climb of each row of ``expected`` ``(runs, points)`` chaotic in place, with ``grad`` (same shape)
    and ``val`` ``(runs, evaluations)`` moving with it (rows with ``chaos = 0`` are left as they are); ``z``:
    unit normals, ``steps`` and ``val_steps``: the logged and evaluated optimizer steps."""
    for r in range(expected.shape[0]):
        if chaos[r] == 0.0:
            continue
        low, factor, v = np.inf, 1.0, 0
        for j in range(counts[r]):
            while v < val_counts[r] and val_steps[r, v] < steps[r, j]:
                val[r, v] *= factor
                v += 1
            loss = expected[r, j]
            low = loss if loss < low else low
            factor = 1.0
            if loss > low and overflow[r] > low:  # NaN compares False: a NaN point keeps factor 1
                top = np.log(overflow[r] / low)
                share = min(np.log(loss / low) / top, 1.0)
                factor = np.exp(top * (share ** np.exp(chaos[r] * z[r, j]) - share))
            expected[r, j] = loss * factor
            grad[r, j] *= factor
        while v < val_counts[r]:
            val[r, v] *= factor
            v += 1
