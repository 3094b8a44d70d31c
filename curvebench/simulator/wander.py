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
optimizer steps (so the factor is exact for any logging interval). ``wander = 0`` is an exact no-op.

>>> expected = np.full((1, 4), 2.0)
>>> apply_wander(expected, np.full((1, 4), 0.1), np.zeros((1, 4)), np.arange(4)[None, :], np.array([4]),
...              np.array([0.0]), np.array([5.0]))
>>> expected.tolist()
[[2.0, 2.0, 2.0, 2.0]]
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def apply_wander(expected, sigma, z, steps, counts, wander, wander_steps) -> None:
    """Multiply ``expected`` ``(runs, points)`` in place by each run's wander factor (rows with ``wander = 0``
    are left as they are); ``z``: unit normals, ``steps``: the logged optimizer steps."""
    for r in range(expected.shape[0]):
        if wander[r] == 0.0:
            continue
        a = z[r, 0]
        for j in range(counts[r]):
            if j > 0:
                rho = np.exp(-(steps[r, j] - steps[r, j - 1]) / wander_steps[r])
                a = rho * a + np.sqrt(1.0 - rho * rho) * z[r, j]
            expected[r, j] *= np.exp(wander[r] * sigma[r, j] * a)
