"""Slow wander of the loss: the sample-path fluctuation that the optimizer model's moments average away.

The optimizer model follows the *expected* loss; a real run follows one sample path. A direction
whose step ``eta h`` is small and whose noise floor is high (a learning rate far too large keeps many
such directions hot) makes the loss wander: each direction's error is an autoregressive process
``e_t = (1 - eta h) e_(t-1) + noise`` (the noisy quadratic model's sample path, Zhang et al., 2019), so
the loss it adds is positively correlated over about ``1 / (2 eta h)`` steps. The recorded runs of a
too-high learning rate show it (lag-1 autocorrelation of the residual up to +0.5, against about -0.1
for healthy runs; ``curvebench/datasets/README.md``'s corpus).

Here it is one log-normal factor per logged point, ``exp(wander * sigma * a_t)``, where ``sigma`` is the
point's minibatch noise level and ``a_t`` a unit AR(1) process with correlation time ``wander_steps``
optimizer steps (so the factor is exact for any logging interval). The wander is in the *parameters*, so
the validation loss, evaluated at the same parameters, carries it too: each evaluation takes the factor of
the last logged point at or before its step. ``wander = 0`` is an exact no-op.

>>> expected, val = np.full((1, 4), 2.0), np.full((1, 2), 3.0)
>>> apply_wander(expected, np.full((1, 4), 0.1), np.ones((1, 4)), np.arange(4)[None, :], np.array([4]),
...              np.array([1.0]), np.array([5.0]), val, np.array([[0, 3]]), np.array([2]))
>>> expected.round(4).tolist(), val.round(4).tolist()
([[2.2103, 2.2989, 2.3741, 2.4374]], [[3.3155, 3.6561]])
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def apply_wander(expected, sigma, z, steps, counts, wander, wander_steps, val, val_steps, val_counts) -> None:
    """Multiply ``expected`` ``(runs, points)`` and ``val`` ``(runs, evaluations)`` in place by each run's
    wander factor (rows with ``wander = 0`` are left as they are); ``z``: unit normals, ``steps`` and
    ``val_steps``: the logged and evaluated optimizer steps."""
    for r in range(expected.shape[0]):
        if wander[r] == 0.0:
            continue
        a = z[r, 0]
        v = 0
        factor = 1.0
        for j in range(counts[r]):
            if j > 0:
                rho = np.exp(-(steps[r, j] - steps[r, j - 1]) / wander_steps[r])
                a = rho * a + np.sqrt(1.0 - rho * rho) * z[r, j]
            while v < val_counts[r] and val_steps[r, v] < steps[r, j]:
                val[r, v] *= factor
                v += 1
            factor = np.exp(wander[r] * sigma[r, j] * a)
            expected[r, j] *= factor
        while v < val_counts[r]:
            val[r, v] *= factor
            v += 1
