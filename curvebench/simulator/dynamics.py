"""The optimizer model: a noisy quadratic model with a sharp nonlinear direction, a saddle and dead units.

Many runs advance together, one optimizer step at a time; every array has one row per run.
Learning rates are in *stability units*: ``eta * h`` is the step size times a curvature, so a
mode with ``eta * h > 2`` is unstable, as in gradient descent on a quadratic.

**Bulk: the noisy quadratic model** (Zhang et al., 2019). The loss is a sum of quadratic modes
with curvatures ``h_k``; SGD moves each mode's second moment ``s_k = E[e_k**2]`` as ::

    s_k <- (1 - eta_k h_k)**2 s_k + eta_k**2 n_k          (gradient noise n_k = n h_k, n ~ 1/batch size)

and the mode's expected excess loss is ``h_k s_k / 2``. Per-example gradients shrink with the loss, so the
noise is scaled by ``(loss / reference) ** noise_power`` (``noise_power = 0``: the plain NQM). A learning rate too low barely moves
the slow modes; a larger one reaches a higher noise floor ``~ eta n sum(h) / 4``, so decaying
the learning rate drops the loss; ``eta h_0 > 2`` makes the sharpest mode grow geometrically
(divergence, then overflow to NaN where the run has an overflow threshold). Mode 0 is the
sharpest direction (``h_0 = 1``); it also carries the loss the initialization adds above
chance, which the first steps remove.

**Train and validation** (after Advani & Saxe, 2017). *Memorization* modes (the last
``delta.shape[1]`` modes) start at the population optimum; training moves their mean ``e`` to
the training-set optimum, ``delta`` away, so their training loss falls while their validation
loss ``h ((e + delta)**2 + var) / 2`` rises. Slow memorization under fast signal learning gives
the U-shaped validation curve of overfitting.

**The sharp direction** ``x`` (edge of stability, catapults, spikes). Its loss is
``S w**2 log cosh(x / w)`` with a different width ``w`` on each side: quadratic with sharpness
``S`` near 0, linear far out, asymmetric, so a period-2 orbit shows as a zig-zag in the loss.
Sharpness rises towards ``S_max`` (progressive sharpening) and falls while ``x`` oscillates
(self-stabilization, Damian et al., 2023), which gives the edge-of-stability wobble (Cohen et
al., 2021), the early catapult (Lewkowycz et al., 2020) and, with weaker stabilization,
growing oscillations. A jump of sharpness past ``2/lr`` (the run entering a sharper region)
makes one spike: ``x`` blows up, self-stabilization flattens the region, ``x`` decays.

**Capacity.** A share ``phi`` of what can be learned (the slowest modes) sits behind a saddle
gate ``g`` that grows logistically, ``g <- g + eta r g (1 - g)`` (the sigmoidal learning of deep
linear networks, Saxe et al., 2014): a gated share of mode ``k`` keeps its initial loss, learns
at ``g eta`` and has gradient ``~ g`` — from a tiny ``g`` the run is stuck with a vanishing
gradient, while the open modes learn as usual. Units die (``d`` shrinks from 1) while ``x``
is past ``death_threshold`` widths; a dead network outputs a constant, so the loss is
``floor + X`` with ``X = E_0 + (1 - d) D + d (E_seen + f(x))`` (``D`` the learnable excess,
``E_seen`` the open and blocked mode losses) and at ``d = 0`` it sits at the chance level (collapse).
Mode 0 (the output layer's calibration) keeps a share ``readout`` of its gradient noise when the
units are dead: the output layer still trains on a constant input, kicked by every batch, so a
collapsed network hovers just above chance with a small gradient that does not vanish. The sharp
direction itself moves at the full rate (it is the output layer's scale, which keeps moving as units
die), so an instability that kills units runs on.
Gradient noise scales with ``a = d (1 - phi (1 - g))``: a network whose outputs barely depend
on its input has the same loss, and nearly the same gradient, on every batch.

**Observed scale.** Above ``link_scale`` the loss grows like ``X**link_power`` (saturating
cross-entropy, bounded adaptive steps), so a geometric blow-up climbs steadily instead of
exploding. The gradient norm is ``sqrt(sum h**2 s + n sum h + ...)`` seen through
scale-invariant weights whose norm shrinks under weight decay as the learning rate decays, so
it rises late in a run (Defazio et al., 2025); with no decay to hold them the steps grow the
weights, and the gradient norm of a collapsed network keeps falling (``weight_injection``). Gradient
clipping scales a step down when the norm passes it.

Arithmetic is float32. A compiled kernel (numba) advances each run on its own, step by step, with
sums over modes in a fixed order, so a run gives the same bits alone or in a batch; the runs of a
batch are shared between threads. The kernel calls only code of this module: numba's on-disk
cache does not notice edits to other modules.

>>> params = ModelParams.quadratic(h=[[1.0, 0.1]], e0=[[0.0, 2.0]], noise=[0.0], floor=[1.0])
>>> traj = integrate(params, np.ones((1, 3)), np.array([0.5]))
>>> traj.train[:, 0].astype(float).round(4).tolist()
[1.2, 1.1805, 1.1629]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from curvebench.simulator.parallel import over_runs

DTYPE = np.float32
LN2 = DTYPE(np.log(2.0))
ZERO, HALF, ONE, TWO = DTYPE(0.0), DTYPE(0.5), DTYPE(1.0), DTYPE(2.0)
MAX_RATIO = DTYPE(1e6)
SCALARS = ("floor_train", "floor_val", "learnable_train", "learnable_val", "link_scale", "link_power", "overflow",
           "x0", "x_floor", "sharpness0", "sharpness_max", "sharpening", "stabilization", "width_pos", "width_neg",
           "gated", "gate0", "gate_rate", "death_threshold", "death_rate", "weight_decay", "weight_injection", "clip",
           "grad_scale", "noise_power", "noise_reference", "readout")
"""The per-run parameters, in the column order of the kernel's ``scalars`` matrix."""
(FLOOR_TRAIN, FLOOR_VAL, LEARNABLE_TRAIN, LEARNABLE_VAL, LINK_SCALE, LINK_POWER, OVERFLOW, X0, X_FLOOR, SHARPNESS0,
 SHARPNESS_MAX, SHARPENING, STABILIZATION, WIDTH_POS, WIDTH_NEG, GATED, GATE0, GATE_RATE, DEATH_THRESHOLD, DEATH_RATE,
 WEIGHT_DECAY, WEIGHT_INJECTION, CLIP, GRAD_SCALE, NOISE_POWER, NOISE_REFERENCE, READOUT) = range(len(SCALARS))


@dataclass
class ModelParams:
    """Everything :func:`integrate` needs, one row per run (``(runs,)`` or ``(runs, modes)`` arrays)."""

    h: np.ndarray
    e0: np.ndarray
    noise: np.ndarray
    """``(runs, modes)``: each mode's gradient-noise injection ``n_k`` (``v_k += eta**2 n_k``)."""
    delta: np.ndarray
    floor_train: np.ndarray
    floor_val: np.ndarray
    learnable_train: np.ndarray
    learnable_val: np.ndarray
    link_scale: np.ndarray
    link_power: np.ndarray
    overflow: np.ndarray
    x0: np.ndarray
    x_floor: np.ndarray
    sharpness0: np.ndarray
    sharpness_max: np.ndarray
    sharpening: np.ndarray
    stabilization: np.ndarray
    width_pos: np.ndarray
    width_neg: np.ndarray
    gated: np.ndarray
    gate_share: np.ndarray
    """``(runs, modes)``: the share of each mode that sits behind the saddle (``gated`` in total)."""
    gate0: np.ndarray
    gate_rate: np.ndarray
    death_threshold: np.ndarray
    death_rate: np.ndarray
    weight_decay: np.ndarray
    weight_injection: np.ndarray
    clip: np.ndarray
    grad_scale: np.ndarray
    noise_power: np.ndarray
    """Gradient noise scales like ``(loss / noise_reference) ** noise_power`` (per-example gradients shrink as
    the loss does; 0 is the plain NQM's constant noise)."""
    noise_reference: np.ndarray
    readout: np.ndarray
    """Share of mode 0's gradient noise that outlives dead units (0: a dead network has no gradient). Mode 0
    is the output layer's calibration; it keeps training on a constant input, kicked by every batch."""
    kicks: list = field(default_factory=list)
    """``(step, row, mode, value)``: at ``step`` add ``value`` times the current loss to bulk ``mode``,
    or, for ``mode == -1``, set the sharp direction's sharpness to ``value`` (a jump into a sharper region)."""

    @classmethod
    def quadratic(cls, h, e0, noise, floor) -> "ModelParams":
        """A plain noisy quadratic model (no gate, no sharp direction, no memorization); noise ``n h_k`` per mode."""
        h = np.asarray(h, dtype=np.float64)
        e0 = np.asarray(e0, dtype=np.float64)
        n = h.shape[0]
        noise = np.asarray(noise, dtype=np.float64)[:, None] * h
        zeros, ones = np.zeros(n), np.ones(n)
        excess = 0.5 * (h * e0 * e0)[:, 1:].sum(axis=1)
        return cls(
            h=h, e0=e0, noise=noise, delta=np.zeros((n, 0)),
            floor_train=np.asarray(floor, dtype=np.float64), floor_val=np.asarray(floor, dtype=np.float64),
            learnable_train=excess, learnable_val=excess, link_scale=np.full(n, np.inf), link_power=ones * 0.5,
            overflow=np.full(n, np.inf), x0=zeros, x_floor=zeros, sharpness0=ones, sharpness_max=ones,
            sharpening=zeros, stabilization=zeros, width_pos=ones, width_neg=ones, gated=zeros,
            gate_share=np.zeros_like(h), gate0=ones,
            gate_rate=zeros, death_threshold=np.full(n, np.inf), death_rate=zeros, weight_decay=zeros,
            weight_injection=zeros, clip=np.full(n, np.inf), grad_scale=ones, noise_power=zeros,
            noise_reference=ones, readout=zeros,
        )


@dataclass
class Trajectory:
    """The model's noiseless observables, indexed ``[step, run]``: ``train[t, r]`` is run ``r`` before step ``t``.

    ``capacity`` is ``a``: 1 for a healthy network, 0 for a dead one. Arrays are float32
    ``(steps, runs)`` views of run-major arrays (``train.T`` is C-contiguous: one run's steps lie together).
    """

    train: np.ndarray
    val: np.ndarray
    grad_norm: np.ndarray
    capacity: np.ndarray

    def runs(self, span: slice) -> "Trajectory":
        """The trajectory of the runs in ``span`` (views, not copies)."""
        return Trajectory(self.train[:, span], self.val[:, span], self.grad_norm[:, span], self.capacity[:, span])


def integrate(params: ModelParams, schedule: np.ndarray, stability: np.ndarray) -> Trajectory:
    """Run the model for ``schedule.shape[1]`` steps with learning rates ``stability * schedule`` (stability
    units; the product is rounded to float32 at each step)."""
    schedule = np.ascontiguousarray(schedule, dtype=np.float64)
    stability = np.ascontiguousarray(stability, dtype=np.float64)
    runs, steps = schedule.shape
    inputs = _pack(params)
    train, val, grad, capacity = (np.empty((runs, steps), DTYPE) for _ in range(4))
    over_runs(lambda *turn: _advance(*turn, schedule, stability, *inputs, train, val, grad, capacity), runs)
    return Trajectory(train.T, val.T, grad.T, capacity.T)


def _pack(p: ModelParams) -> tuple:
    """The kernel's inputs: float32 row-major parameters, and the kicks sorted by run, then step."""
    f = lambda a: np.ascontiguousarray(a, dtype=DTYPE)
    scalars = f(np.stack([np.asarray(getattr(p, name), dtype=np.float64) for name in SCALARS], axis=1))
    h = np.asarray(p.h, dtype=np.float64)
    e0 = np.asarray(p.e0, dtype=np.float64)
    n_mem = p.delta.shape[1]
    kicks = np.array([(s, r, m, v) for s, r, m, v in p.kicks], dtype=np.float64).reshape(-1, 4)
    order = np.lexsort((kicks[:, 0], kicks[:, 1]))
    kicks = kicks[order]
    kick_start = np.searchsorted(kicks[:, 1], np.arange(h.shape[0] + 1), side="left").astype(np.int64)
    return (scalars, f(h), f(e0 * e0), f(p.noise), f(p.gate_share), f(p.delta), f(e0[:, h.shape[1] - n_mem:]),
            kick_start, np.ascontiguousarray(kicks[:, 0], dtype=np.int64),
            np.ascontiguousarray(kicks[:, 2], dtype=np.int64), np.ascontiguousarray(kicks[:, 3]))


@njit(cache=True, nogil=True)
def _noise_level(loss, reference, power):
    if power == ZERO:
        return ONE
    ratio = abs(loss / reference)
    if ratio > MAX_RATIO:
        ratio = MAX_RATIO
    return ratio**power


@njit(cache=True, nogil=True)
def _link(excess, scale, power):
    """Excess loss above ``scale`` grows like ``excess**power``; returns the loss and its slope."""
    if not excess > scale:
        return excess, ONE
    ratio = excess / scale
    return scale * (ONE + (ratio**power - ONE) / power), ratio ** (power - ONE)


@njit(cache=True, nogil=True)
def _advance(first, stride, block, schedule, stability, scalars, h, second0, noise_h, share, delta, e_mem0,
             kick_start, kick_step, kick_mode, kick_value, train, val, grad, capacity):
    """Blocks ``first, first + stride, ...`` of ``block`` runs: write their rows of the four outputs."""
    runs = schedule.shape[0]
    work = np.empty((5, h.shape[1]), np.float32)
    e_mem = np.empty(delta.shape[1], np.float32)
    for b in range(first * block, runs, stride * block):
        for r in range(b, min(b + block, runs)):
            _advance_run(r, schedule, stability, scalars, h, second0, noise_h, share, delta, e_mem0, kick_start, kick_step,
                         kick_mode, kick_value, train, val, grad, capacity, work, e_mem)


@njit(cache=True, nogil=True)
def _advance_run(r, schedule, stability, scalars, h, second0, noise_h, share, delta, e_mem0, kick_start, kick_step,
                 kick_mode, kick_value, train, val, grad, capacity, work, e_mem):
    """Run ``r`` from its first step to its last (``work`` and ``e_mem`` are scratch).

    Clamps are written as comparisons that let NaN through, as NumPy's ``minimum``/``maximum`` do.
    """
    steps, modes, n_mem = schedule.shape[1], h.shape[1], delta.shape[1]
    second, half_h, initial, opened, factor = work[0], work[1], work[2], work[3], work[4]
    m0 = modes - n_mem
    p, hr, nh, sh = scalars[r], h[r], noise_h[r], share[r]
    floor_train, floor_val, learnable_train, learnable_val = (p[FLOOR_TRAIN], p[FLOOR_VAL], p[LEARNABLE_TRAIN],
                                                              p[LEARNABLE_VAL])
    link_scale, link_power, gated, clip_at = p[LINK_SCALE], p[LINK_POWER], p[GATED], p[CLIP] * p[GRAD_SCALE]
    top = p[X0] != ZERO
    cap = gated != ZERO or (top and np.isfinite(p[DEATH_THRESHOLD]))
    clipped, decays, overflows = (np.isfinite(p[CLIP]), p[WEIGHT_DECAY] != ZERO or p[WEIGHT_INJECTION] != ZERO,
                                   np.isfinite(p[OVERFLOW]))
    mem = False
    for j in range(n_mem):
        e_mem[j] = e_mem0[r, j]
        mem = mem or delta[r, j] != ZERO
    noise_sum = nh[1]
    for k in range(modes):
        second[k] = second0[r, k]
        half_h[k] = HALF * hr[k]
        initial[k] = half_h[k] * second[k]
        if k >= 2:
            noise_sum += nh[k]
    x, sharp, gate = p[X0], p[SHARPNESS0], p[GATE0]
    alive, alive_share, weight_norm2, dead = ONE, ONE, ONE, False
    previous = floor_train + learnable_train
    level = _noise_level(previous + half_h[0] * second[0], p[NOISE_REFERENCE], p[NOISE_POWER])
    kick, kick_end = kick_start[r], kick_start[r + 1]
    abs_z = tanh_z = top_grad = ZERO
    readout = p[READOUT]
    for t in range(steps):
        while kick < kick_end and kick_step[kick] <= t:
            if kick_step[kick] == t:
                if kick_mode[kick] < 0:
                    sharp = np.float32(kick_value[kick])
                else:
                    before = np.float64(previous)
                    kicked = kick_value[kick] * (0.0 if before < 0.0 else before)
                    if np.isfinite(kicked):
                        m = kick_mode[kick]
                        second[m] += np.float32(2.0 * kicked / np.float64(hr[m]))
            kick += 1
        energy0 = half_h[0] * second[0]
        if cap:
            g = gate
            alive_share = alive * (ONE - gated * (ONE - g))
            learned = grad2 = noise_weight = ZERO
            for k in range(1, modes):
                energy = half_h[k] * second[k]
                o = ONE - sh[k] * (ONE - g)
                opened[k] = o
                weight = o * o
                term = o * energy + (ONE - o) * initial[k]
                learned = term if k == 1 else learned + term
                term = hr[k] * energy * weight
                grad2 = term if k == 1 else grad2 + term
                term = nh[k] * weight
                noise_weight = term if k == 1 else noise_weight + term
            grad2 = grad2 * TWO + noise_weight * (alive_share * alive_share) * level
        else:
            energy = half_h[1] * second[1]
            learned, grad2 = energy, hr[1] * energy
            for k in range(2, modes):
                energy = half_h[k] * second[k]
                learned += energy
                grad2 += hr[k] * energy
            grad2 = grad2 * TWO + noise_sum * level
        learned_val = learned
        if mem:
            shift = ZERO
            for j in range(n_mem):
                term = hr[m0 + j] * delta[r, j] * (e_mem[j] + HALF * delta[r, j])
                shift = term if j == 0 else shift + term
            learned_val = learned + shift
        if top:
            width = p[WIDTH_POS] if x >= ZERO else p[WIDTH_NEG]
            z = x / width
            abs_z = abs(z)
            top_loss = sharp * width * width * (abs_z + np.log1p(np.exp(-TWO * abs_z)) - LN2)
            tanh_z = np.tanh(z)
            top_grad = sharp * width * tanh_z
            learned += top_loss
            learned_val = learned_val + top_loss if mem else learned
            grad2 += top_grad * top_grad
        x_train, x_val = energy0 + learned, energy0 + learned_val
        if cap:
            a = alive
            gate_grad = gated * a * learnable_train * p[GATE_RATE] * gate * (ONE - gate)
            grad2 = a * a * grad2 + gate_grad * gate_grad
            x_train = energy0 + (ONE - a) * learnable_train + a * learned
            x_val = energy0 + (ONE - a) * learnable_val + a * learned_val
        live0 = alive_share * alive_share
        if readout != ZERO:
            live0 = live0 + readout * (ONE - live0)
        grad2 += TWO * hr[0] * energy0 + nh[0] * live0 * level
        norm = np.sqrt(grad2)
        x_train, slope = _link(x_train, link_scale, link_power)
        x_val = _link(x_val, link_scale, link_power)[0]
        norm = norm * slope * p[GRAD_SCALE]
        if decays:
            norm /= np.sqrt(weight_norm2)
        loss, loss_val = floor_train + x_train, floor_val + x_val
        if overflows:
            dead = dead or not x_train <= p[OVERFLOW]
            if dead:
                loss = loss_val = norm = np.float32(np.nan)
        train[r, t], val[r, t], grad[r, t], capacity[r, t] = loss, loss_val, norm, alive_share
        previous = loss
        level = _noise_level(loss, p[NOISE_REFERENCE], p[NOISE_POWER])
        rate = DTYPE(stability[r] * schedule[r, t])
        if clipped:
            ratio = clip_at / norm
            rate *= ONE if ratio > ONE else ratio
        for k in range(modes):
            if cap:
                step = rate if k == 0 else opened[k] * (rate * alive)
                noise = step * step * (live0 if k == 0 else alive_share * alive_share) * nh[k] * level
            else:
                step = rate
                noise = step * step * nh[k] * level
            factor[k] = ONE - step * hr[k]
            second[k] = second[k] * (factor[k] * factor[k]) + noise
        for j in range(n_mem):
            if mem:
                e_mem[j] *= factor[m0 + j]
        if top:
            x = x - rate * top_grad
            size = abs(x)
            x = np.copysign(p[X_FLOOR] if size < p[X_FLOOR] else size, x)
            sharp = (sharp * np.exp(-rate * p[STABILIZATION] * tanh_z * tanh_z)
                     + rate * p[SHARPENING] * (p[SHARPNESS_MAX] - sharp))
        if cap:
            if top:
                excess = abs_z - p[DEATH_THRESHOLD]
                alive *= np.exp(-p[DEATH_RATE] * (ZERO if excess <= ZERO else excess))
            gate = gate + rate * p[GATE_RATE] * gate * (ONE - gate)
            gate = ZERO if gate < ZERO else (ONE if gate > ONE else gate)
        if decays:
            weight_norm2 = (weight_norm2 * (ONE - TWO * rate * p[WEIGHT_DECAY])
                            + rate * rate * p[WEIGHT_INJECTION] / weight_norm2)
