"""NumPy's ``PCG64`` generator in compiled code: the same uniforms and normals, bit for bit, without the GIL.

Every run draws from its own ``numpy.random.Generator(PCG64(seed))``; here its 128-bit state and increment
are a row of a ``(runs, 4)`` ``uint64`` array. :func:`spawned` seeds the rows of ``SeedSequence(entropy)``'s
children (NumPy's hash of entropy and spawn key, then ``PCG64``'s seeding) without making the objects,
:func:`seeded` those of any ``SeedSequence``. The kernels step a row as ``PCG64`` does (an LCG modulo
``2**128``, XSL-RR output) and turn its words into draws as ``Generator.random`` (53 bits) and
``Generator.standard_normal`` (NumPy's 256-layer ziggurat, whose tables numba ships) do. Kernels that draw
call only code of this module (numba's on-disk cache does not notice edits to others).

>>> state = spawned(3, 2)
>>> children = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(3).spawn(2)]
>>> bool(np.array_equal(uniforms(state, 5), np.stack([rng.random(5) for rng in children])))
True
>>> out = np.empty(4)
>>> fill_normal(state[1], out, 0, 4)
>>> bool(np.array_equal(out, children[1].standard_normal(4)))
True
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r

STATE_HIGH, STATE_LOW, INC_HIGH, INC_LOW = range(4)
"""Columns of a state row: the state and the increment, high and low 64 bits."""
_U32 = np.uint64(0xFFFFFFFF)
POOL_SIZE = 4
"""``SeedSequence``'s default pool of 32-bit words."""
_INIT_A, _MULT_A, _INIT_B, _MULT_B = (np.uint64(0x43B0D7E5), np.uint64(0x931E8875), np.uint64(0x8B51F9DD),
                                      np.uint64(0x58F38DED))
_MIX_LEFT, _MIX_RIGHT = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_MULT_HIGH, _MULT_LOW = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
_KI, _WI, _FI = (np.array(t) for t in (ki_double, wi_double, fi_double))


def spawned(entropy: int, n: int) -> np.ndarray:
    """The ``(n, 4)`` states of ``PCG64(s)`` for ``s`` in ``SeedSequence(entropy).spawn(n)``, computed here
    (NumPy's hash of the entropy and spawn key, then ``PCG64``'s seeding) without making the objects."""
    if entropy < 0 or n > 1 << 32:
        raise ValueError(f"expected a non-negative entropy and at most 2**32 children, got {entropy} and {n}")
    words = []
    while entropy or not words:
        words.append(entropy & 0xFFFFFFFF)
        entropy >>= 32
    words += [0] * (POOL_SIZE - len(words))
    out = np.empty((n, 4), dtype=np.uint64)
    _spawn(np.array(words, dtype=np.uint64), out)
    return out


def seeded(sequences) -> np.ndarray:
    """The ``(n, 4)`` states of ``PCG64(s)`` for ``s`` in ``sequences`` (``SeedSequence`` objects)."""
    out = np.empty((len(sequences), 4), dtype=np.uint64)
    for row, sequence in zip(out, sequences):
        _set_seed(sequence.generate_state(4, np.uint64), row)
    return out


def uniforms(state: np.ndarray, count: int) -> np.ndarray:
    """``(runs, count)`` uniforms in ``[0, 1)``: row ``r`` the next ``count`` of ``state[r]``."""
    out = np.empty((1, len(state), count))
    fill_rows(0, 1, len(state), state, np.arange(len(state)), out, np.full((len(state), 1), count),
              np.array([True]))
    return out[0]


@njit(cache=True, nogil=True)
def _hashmix(value, hash_const):
    """``SeedSequence``'s ``hashmix`` (32-bit words in ``uint64``): the hashed value and the next constant."""
    value = (value ^ hash_const) & _U32
    hash_const = (hash_const * _MULT_A) & _U32
    value = (value * hash_const) & _U32
    return value ^ (value >> np.uint64(16)), hash_const


@njit(cache=True, nogil=True)
def _mix(x, y):
    """``SeedSequence``'s ``mix`` of two 32-bit words."""
    result = (_MIX_LEFT * x - _MIX_RIGHT * y) & _U32
    return result ^ (result >> np.uint64(16))


@njit(cache=True, nogil=True)
def _spawn(entropy, out):
    """``out[i]``: the state of the ``PCG64`` seeded by child ``i`` of a ``SeedSequence`` whose entropy has
    the 32-bit ``entropy`` words (padded to the pool size): ``SeedSequence.mix_entropy`` of the entropy and
    spawn key ``(i,)``, ``generate_state(4, uint64)``, then ``pcg64_set_seed``."""
    words = np.empty(len(entropy) + 1, dtype=np.uint64)
    words[:-1] = entropy
    pool, state, seed = np.empty(POOL_SIZE, dtype=np.uint64), np.empty(8, dtype=np.uint64), np.empty(4, np.uint64)
    for i in range(out.shape[0]):
        words[-1] = i
        hash_const = _INIT_A
        for k in range(POOL_SIZE):
            pool[k], hash_const = _hashmix(words[k], hash_const)
        for src in range(POOL_SIZE):
            for dst in range(POOL_SIZE):
                if src != dst:
                    value, hash_const = _hashmix(pool[src], hash_const)
                    pool[dst] = _mix(pool[dst], value)
        for src in range(POOL_SIZE, len(words)):
            for dst in range(POOL_SIZE):
                value, hash_const = _hashmix(words[src], hash_const)
                pool[dst] = _mix(pool[dst], value)
        hash_const = _INIT_B
        for k in range(8):
            value = pool[k % POOL_SIZE] ^ hash_const
            hash_const = (hash_const * _MULT_B) & _U32
            value = (value * hash_const) & _U32
            state[k] = value ^ (value >> np.uint64(16))
        for k in range(4):
            seed[k] = state[2 * k] | (state[2 * k + 1] << np.uint64(32))
        _set_seed(seed, out[i])


@njit(cache=True, nogil=True)
def _set_seed(seed, row):
    """``pcg64_set_seed``: ``row`` from the 4 words of ``SeedSequence.generate_state(4, uint64)`` (state, then
    increment; high word first)."""
    row[INC_HIGH] = (seed[2] << np.uint64(1)) | (seed[3] >> np.uint64(63))
    row[INC_LOW] = (seed[3] << np.uint64(1)) | np.uint64(1)
    row[STATE_HIGH], row[STATE_LOW] = np.uint64(0), np.uint64(0)
    next64(row)
    low = row[STATE_LOW] + seed[1]
    row[STATE_HIGH] += seed[0] + (np.uint64(1) if low < seed[1] else np.uint64(0))
    row[STATE_LOW] = low
    next64(row)


@njit(cache=True, nogil=True, inline="always")
def _mulhi(a, b):
    """The high 64 bits of the 128-bit product of two ``uint64``."""
    a0, a1, b0, b1 = a & _U32, a >> np.uint64(32), b & _U32, b >> np.uint64(32)
    p01, p10 = a0 * b1, a1 * b0
    mid = ((a0 * b0) >> np.uint64(32)) + (p01 & _U32) + (p10 & _U32)
    return a1 * b1 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))


@njit(cache=True, nogil=True, inline="always")
def _step(high, low, inc_high, inc_low):
    """One ``PCG64`` step of the state ``(high, low)``: the new state and its 64-bit output."""
    new_low = low * _MULT_LOW
    new_high = _mulhi(low, _MULT_LOW) + low * _MULT_HIGH + high * _MULT_LOW
    summed = new_low + inc_low
    new_high = new_high + inc_high + (np.uint64(1) if summed < new_low else np.uint64(0))
    value, rot = new_high ^ summed, new_high >> np.uint64(58)
    return new_high, summed, (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True, nogil=True, inline="always")
def _double(word):
    """A 64-bit output as a uniform in ``[0, 1)`` (``Generator.random``: its top 53 bits)."""
    return np.float64(word >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def _normal(high, low, inc_high, inc_low):
    """A standard normal from the state ``(high, low)`` (NumPy's ziggurat) and the state after it; the state is
    passed by value so that the compiler keeps it in registers."""
    while True:
        high, low, r = _step(high, low, inc_high, inc_low)
        idx = np.intp(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * _WI[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < _KI[idx]:
            return x, high, low
        if idx == 0:
            while True:
                high, low, word = _step(high, low, inc_high, inc_low)
                xx = -ziggurat_nor_inv_r * np.log1p(-_double(word))
                high, low, word = _step(high, low, inc_high, inc_low)
                yy = -np.log1p(-_double(word))
                if yy + yy > xx * xx:
                    tail = -(ziggurat_nor_r + xx) if (rabs >> np.uint64(8)) & np.uint64(1) else ziggurat_nor_r + xx
                    return tail, high, low
        else:
            high, low, word = _step(high, low, inc_high, inc_low)
            if (_FI[idx - 1] - _FI[idx]) * _double(word) + _FI[idx] < np.exp(-0.5 * x * x):
                return x, high, low


@njit(cache=True, nogil=True)
def next64(state):
    """Step ``state`` (a row of a state array) and return the next 64-bit output."""
    state[STATE_HIGH], state[STATE_LOW], word = _step(state[STATE_HIGH], state[STATE_LOW], state[INC_HIGH],
                                                      state[INC_LOW])
    return word


@njit(cache=True, nogil=True)
def fill_normal(state, out, start, stop):
    """``out[start:stop]`` = standard normals, in order."""
    high, low, inc_high, inc_low = state[STATE_HIGH], state[STATE_LOW], state[INC_HIGH], state[INC_LOW]
    for j in range(start, stop):
        out[j], high, low = _normal(high, low, inc_high, inc_low)
    state[STATE_HIGH], state[STATE_LOW] = high, low


@njit(cache=True, nogil=True)
def fill_uniform(state, out, start, stop):
    """``out[start:stop]`` = uniforms in ``[0, 1)``, in order."""
    high, low, inc_high, inc_low = state[STATE_HIGH], state[STATE_LOW], state[INC_HIGH], state[INC_LOW]
    for j in range(start, stop):
        high, low, word = _step(high, low, inc_high, inc_low)
        out[j] = _double(word)
    state[STATE_HIGH], state[STATE_LOW] = high, low


@njit(cache=True, nogil=True)
def skip_normals(states, rows, counts):
    """Advance ``states[rows[i]]`` past ``counts[i]`` standard normals, for each ``i``."""
    for i in range(rows.shape[0]):
        state = states[rows[i]]
        high, low, inc_high, inc_low = state[STATE_HIGH], state[STATE_LOW], state[INC_HIGH], state[INC_LOW]
        for _ in range(counts[i]):
            _, high, low = _normal(high, low, inc_high, inc_low)
        state[STATE_HIGH], state[STATE_LOW] = high, low


@njit(cache=True, nogil=True)
def fill_rows(first, stride, block, states, rows, out, counts, uniform):
    """Blocks ``first, first + stride, ...`` of ``block`` runs: run ``r`` fills ``out[p, r, :counts[r, p]]`` for
    each part ``p`` in turn, with uniforms where ``uniform[p]``, else normals, from ``states[rows[r]]``."""
    runs = rows.shape[0]
    for b in range(first * block, runs, stride * block):
        for r in range(b, min(b + block, runs)):
            state = states[rows[r]]
            for p in range(out.shape[0]):
                if uniform[p]:
                    fill_uniform(state, out[p, r], 0, counts[r, p])
                else:
                    fill_normal(state, out[p, r], 0, counts[r, p])
