"""NumPy's ``PCG64`` generator in compiled code: the same normals and uniforms, bit for bit, without the GIL.

A run's noise comes from its own ``numpy.random.Generator``. :func:`states` copies the 128-bit state and
increment of many generators into a ``(runs, 4)`` array; the kernels then step it as ``PCG64`` does (an LCG
modulo ``2**128``, XSL-RR output) and turn the words into draws as ``Generator.random`` (53 bits) and
``Generator.standard_normal`` (NumPy's 256-layer ziggurat, whose tables numba ships) do. :func:`restore`
writes a state back into its generator, which then goes on exactly as if it had made the draws itself.
Kernels that draw call only code of this module (numba's on-disk cache does not notice edits to others).

>>> rng = np.random.Generator(np.random.PCG64(3))
>>> state = states([rng])
>>> out = np.empty(4)
>>> fill_normal(state[0], out, 0, 4)
>>> bool(np.array_equal(out, np.random.Generator(np.random.PCG64(3)).standard_normal(4)))
True
>>> restore(rng, state[0]); bool(rng.random() == np.random.Generator(np.random.PCG64(3)).random(5)[4])
True
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r

STATE_HIGH, STATE_LOW, INC_HIGH, INC_LOW = range(4)
"""Columns of a state row: the state and the increment, high and low 64 bits."""
_MASK = (1 << 64) - 1
_U32 = np.uint64(0xFFFFFFFF)
_MULT_HIGH, _MULT_LOW = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
_KI, _WI, _FI = (np.array(t) for t in (ki_double, wi_double, fi_double))


def states(rngs) -> np.ndarray:
    """The ``(runs, 4)`` ``uint64`` states of ``PCG64`` generators."""
    rows = []
    for rng in rngs:
        state = rng.bit_generator.state["state"]
        rows.append((state["state"] >> 64, state["state"] & _MASK, state["inc"] >> 64, state["inc"] & _MASK))
    return np.array(rows, dtype=np.uint64).reshape(-1, 4)


def restore(rng, state: np.ndarray) -> None:
    """Set ``rng``'s ``PCG64`` state to a row of :func:`states` (advanced by the kernels)."""
    high, low, inc_high, inc_low = (int(w) for w in state)
    full = rng.bit_generator.state
    full["state"] = {"state": (high << 64) | low, "inc": (inc_high << 64) | inc_low}
    rng.bit_generator.state = full


@njit(cache=True, nogil=True, inline="always")
def _mulhi(a, b):
    """The high 64 bits of the 128-bit product of two ``uint64``."""
    a0, a1, b0, b1 = a & _U32, a >> np.uint64(32), b & _U32, b >> np.uint64(32)
    p01, p10 = a0 * b1, a1 * b0
    mid = ((a0 * b0) >> np.uint64(32)) + (p01 & _U32) + (p10 & _U32)
    return a1 * b1 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))


@njit(cache=True, nogil=True)
def next64(state):
    """Step ``state`` (a row of :func:`states`) and return the next 64-bit output."""
    high, low = state[STATE_HIGH], state[STATE_LOW]
    new_low = low * _MULT_LOW
    new_high = _mulhi(low, _MULT_LOW) + low * _MULT_HIGH + high * _MULT_LOW
    summed = new_low + state[INC_LOW]
    new_high = new_high + state[INC_HIGH] + (np.uint64(1) if summed < new_low else np.uint64(0))
    state[STATE_HIGH], state[STATE_LOW] = new_high, summed
    value, rot = new_high ^ summed, new_high >> np.uint64(58)
    return (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True, nogil=True)
def next_double(state):
    """A uniform in ``[0, 1)`` (``Generator.random``)."""
    return np.float64(next64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def normal(state):
    """A standard normal (``Generator.standard_normal``: the ziggurat of NumPy's ``random_standard_normal``)."""
    while True:
        r = next64(state)
        idx = np.intp(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * _WI[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < _KI[idx]:
            return x
        if idx == 0:
            while True:
                xx = -ziggurat_nor_inv_r * np.log1p(-next_double(state))
                yy = -np.log1p(-next_double(state))
                if yy + yy > xx * xx:
                    return -(ziggurat_nor_r + xx) if (rabs >> np.uint64(8)) & np.uint64(1) else ziggurat_nor_r + xx
        elif (_FI[idx - 1] - _FI[idx]) * next_double(state) + _FI[idx] < np.exp(-0.5 * x * x):
            return x


@njit(cache=True, nogil=True)
def fill_normal(state, out, start, stop):
    """``out[start:stop]`` = standard normals, in order."""
    for j in range(start, stop):
        out[j] = normal(state)


@njit(cache=True, nogil=True)
def fill_uniform(state, out, start, stop):
    """``out[start:stop]`` = uniforms in ``[0, 1)``, in order."""
    for j in range(start, stop):
        out[j] = next_double(state)


@njit(cache=True, nogil=True)
def fill_rows(first, stride, block, states, out, counts, uniform):
    """Blocks ``first, first + stride, ...`` of ``block`` runs: run ``r`` fills ``out[p, r, :counts[r, p]]`` for
    each part ``p`` in turn, with uniforms where ``uniform[p]``, else normals, from ``states[r]``."""
    runs = states.shape[0]
    for b in range(first * block, runs, stride * block):
        for r in range(b, min(b + block, runs)):
            for p in range(out.shape[0]):
                if uniform[p]:
                    fill_uniform(states[r], out[p, r], 0, counts[r, p])
                else:
                    fill_normal(states[r], out[p, r], 0, counts[r, p])
