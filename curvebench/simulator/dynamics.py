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
``E_seen`` the open and blocked mode losses) and at ``d = 0`` it sits at the chance level with
no gradient (collapse). The sharp direction itself moves at the full rate (it is the output
layer's scale, which keeps moving as units die), so an instability that kills units runs on.
Gradient noise scales with ``a = d (1 - phi (1 - g))``: a network whose outputs barely depend
on its input has the same loss, and nearly the same gradient, on every batch.

**Observed scale.** Above ``link_scale`` the loss grows like ``X**link_power`` (saturating
cross-entropy, bounded adaptive steps), so a geometric blow-up climbs steadily instead of
exploding. The gradient norm is ``sqrt(sum h**2 s + n sum h + ...)`` seen through
scale-invariant weights whose norm shrinks under weight decay as the learning rate decays, so
it rises late in a run (Defazio et al., 2025). Gradient clipping scales a step down when the
norm passes it.

Arithmetic is float32 (the speed of many runs at once); sums over modes go in a fixed order,
so a run gives the same bits alone or in a batch.

>>> params = ModelParams.quadratic(h=[[1.0, 0.1]], e0=[[0.0, 2.0]], noise=[0.0], floor=[1.0])
>>> traj = integrate(params, np.full((1, 3), 0.5))
>>> traj.train[:, 0].astype(float).round(4).tolist()
[1.2, 1.1805, 1.1629]
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from curvebench.simulator.curves import sum_columns

DTYPE = np.float32
LN2 = DTYPE(np.log(2.0))


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
            noise_reference=ones,
        )


@dataclass
class Trajectory:
    """The model's noiseless observables, time-major: ``train[t, r]`` is run ``r`` before step ``t``.

    ``capacity`` is ``a``: 1 for a healthy network, 0 for a dead one. Arrays are float32
    ``(steps, runs)``, the layout the time loop writes (no transposing copy).
    """

    train: np.ndarray
    val: np.ndarray
    grad_norm: np.ndarray
    capacity: np.ndarray

    def runs(self, span: slice) -> "Trajectory":
        """The trajectory of the runs in ``span`` (views, not copies)."""
        return Trajectory(self.train[:, span], self.val[:, span], self.grad_norm[:, span], self.capacity[:, span])


def integrate(params: ModelParams, eta: np.ndarray) -> Trajectory:
    """Run the model for ``eta.shape[1]`` steps with learning rates ``eta`` (stability units)."""
    with np.errstate(all="ignore"):
        return _Integrator(params, eta).run()


def _span(mask: np.ndarray) -> slice:
    """The smallest slice of rows holding every true entry of ``mask`` (empty if none)."""
    found = np.flatnonzero(mask)
    return slice(int(found[0]), int(found[-1]) + 1) if found.size else slice(0, 0)


class _Integrator:
    """The time loop. Features (sharp direction, capacity, clipping, weight norm, overflow,
    memorization) are computed only on the span of rows that use them; for any other row in a
    span the feature's arithmetic is an exact no-op, so the result never depends on the batch."""

    def __init__(self, p: ModelParams, eta: np.ndarray) -> None:
        f = lambda a: np.ascontiguousarray(a, dtype=DTYPE)  # noqa: E731
        self.eta = f(np.asarray(eta).T)
        self.steps, self.runs = self.eta.shape
        self.h = f(p.h.T)
        self.n_mem = p.delta.shape[1]
        self.second = f((p.e0 * p.e0).T)
        self.half_h = DTYPE(0.5) * self.h
        self.noise_h = f(p.noise.T)
        self.noise_sum = sum_columns(self.noise_h[1:]) if self.h.shape[0] > 1 else np.zeros_like(self.noise_h[0])
        self.q = {fl.name: f(getattr(p, fl.name)) for fl in fields(p)
                  if fl.name not in ("h", "e0", "noise", "delta", "gate_share", "kicks")}
        q = self.q
        self.top = _span(q["x0"] != 0)
        self.cap = _span((q["gated"] != 0) | ((q["x0"] != 0) & np.isfinite(q["death_threshold"])))
        self.clip = _span(np.isfinite(q["clip"]))
        self.weights = _span(q["weight_decay"] != 0)
        self.overflow = _span(np.isfinite(q["overflow"]))
        self.mem = _span(np.any(p.delta != 0, axis=1)) if self.n_mem else slice(0, 0)
        modes = self.h.shape[0]
        self.mem_modes = slice(modes - self.n_mem, modes)
        self.e_mem = f(p.e0[self.mem, self.mem_modes].T)
        self.delta = f(p.delta[self.mem].T)
        self.share = f(p.gate_share[self.cap].T)
        self.initial = self.half_h[:, self.cap] * self.second[:, self.cap]
        self.kicks: dict[int, list] = {}
        for step, row, mode, value in p.kicks:
            self.kicks.setdefault(int(step), []).append((row, mode, value))

    def run(self) -> Trajectory:
        q, h, runs, steps = self.q, self.h, self.runs, self.steps
        n_modes = h.shape[0]
        one, two = DTYPE(1.0), DTYPE(2.0)
        second = self.second
        top, cap, clip, weights, overflow, mem = self.top, self.cap, self.clip, self.weights, self.overflow, self.mem
        x, sharp = q["x0"][top].copy(), q["sharpness0"][top].copy()
        gate, alive = q["gate0"][cap].copy(), np.ones(cap.stop - cap.start, DTYPE)
        capacity = np.ones(runs, DTYPE)
        weight_norm2 = np.ones(weights.stop - weights.start, DTYPE)
        dead = np.zeros(overflow.stop - overflow.start, dtype=bool)
        train, val, grad = (np.empty((steps, runs), DTYPE) for _ in range(3))
        kept_capacity = np.ones((steps, runs), DTYPE) if cap.stop > cap.start else None
        energy, factor, noise = (np.empty_like(second) for _ in range(3))
        h_cap, h_mem = h[:, cap], h[self.mem_modes, mem]
        clip_at = q["clip"][clip] * q["grad_scale"][clip]
        noise_level = self._noise_level(q["floor_train"] + q["learnable_train"] + self.half_h[0] * second[0])
        for t in range(steps):
            if t in self.kicks:
                self._kick(self.kicks[t], train[t - 1] if t else q["floor_train"] + q["learnable_train"], sharp)
            np.multiply(self.half_h, second, out=energy)
            learned = sum_columns(energy[1:])
            grad2 = h[1] * energy[1]
            for k in range(2, n_modes):
                grad2 += h[k] * energy[k]
            grad2 *= two
            grad2 += self.noise_sum * noise_level
            if cap.stop > cap.start:
                g = gate
                opened = one - self.share * (one - g)
                capacity[cap] = alive * (one - q["gated"][cap] * (one - g))
                weight = opened * opened
                learned[cap] = sum_columns((opened * energy[:, cap] + (one - opened) * self.initial)[1:])
                grad2[cap] = (sum_columns((h_cap * energy[:, cap] * weight)[1:]) * two
                              + sum_columns(self.noise_h[1:, cap] * weight[1:]) * (capacity[cap] * capacity[cap])
                              * noise_level[cap])
            learned_val = learned
            if mem.stop > mem.start:
                learned_val = learned.copy()
                learned_val[mem] += sum_columns(h_mem * self.delta * (self.e_mem + DTYPE(0.5) * self.delta))
            if top.stop > top.start:
                width = np.where(x >= 0, q["width_pos"][top], q["width_neg"][top])
                z = x / width
                abs_z = np.abs(z)
                top_loss = sharp * width * width * (abs_z + np.log1p(np.exp(DTYPE(-2.0) * abs_z)) - LN2)
                tanh_z = np.tanh(z)
                top_grad = sharp * width * tanh_z
                learned[top] += top_loss
                if learned_val is not learned:
                    learned_val[top] += top_loss
                grad2[top] += top_grad * top_grad
            x_train = energy[0] + learned
            x_val = energy[0] + learned_val if learned_val is not learned else x_train
            if cap.stop > cap.start:
                a = alive
                gate_grad = q["gated"][cap] * a * q["learnable_train"][cap] * q["gate_rate"][cap] * gate * (one - gate)
                grad2[cap] = a * a * grad2[cap] + gate_grad * gate_grad
                lost = one - a
                x_train[cap] = energy[0, cap] + lost * q["learnable_train"][cap] + a * learned[cap]
                if x_val is x_train:
                    x_val = x_train.copy()
                x_val[cap] = energy[0, cap] + lost * q["learnable_val"][cap] + a * learned_val[cap]
            grad2 += two * h[0] * energy[0] + self.noise_h[0] * capacity * capacity * noise_level
            norm = np.sqrt(grad2)
            if np.any(x_train > q["link_scale"]) or (x_val is not x_train and np.any(x_val > q["link_scale"])):
                same = x_val is x_train
                x_train, slope = _link(x_train, q["link_scale"], q["link_power"])
                x_val = x_train if same else _link(x_val, q["link_scale"], q["link_power"])[0]
                norm *= slope
            norm *= q["grad_scale"]
            if weights.stop > weights.start:
                norm[weights] /= np.sqrt(weight_norm2)
            train[t] = q["floor_train"] + x_train
            val[t] = q["floor_val"] + x_val
            grad[t] = norm
            if overflow.stop > overflow.start:
                dead |= ~(x_train[overflow] <= q["overflow"][overflow])
                for series in (train, val, grad):
                    series[t, overflow][dead] = np.nan
            if kept_capacity is not None:
                kept_capacity[t, cap] = capacity[cap]
            noise_level = self._noise_level(train[t])
            rate = self.eta[t]
            if clip.stop > clip.start:
                rate = rate.copy()
                rate[clip] *= np.minimum(one, clip_at / norm[clip])
            factor[:] = rate
            if cap.stop > cap.start:
                factor[:, cap] = opened * (rate[cap] * alive)
                factor[0, cap] = rate[cap]
            np.multiply(factor, factor, out=noise)
            if cap.stop > cap.start:
                noise[:, cap] *= capacity[cap] * capacity[cap]
            noise *= self.noise_h
            noise *= noise_level
            factor *= h
            np.subtract(one, factor, out=factor)
            if mem.stop > mem.start:
                self.e_mem *= factor[self.mem_modes, mem]
            factor *= factor
            second *= factor
            second += noise
            if top.stop > top.start:
                r = rate[top]
                x = x - r * top_grad
                x = np.copysign(np.maximum(np.abs(x), q["x_floor"][top]), x)
                sharp = (sharp * np.exp(-r * q["stabilization"][top] * tanh_z * tanh_z)
                         + r * q["sharpening"][top] * (q["sharpness_max"][top] - sharp))
            if cap.stop > cap.start:
                if top.stop > top.start:
                    both = slice(max(top.start, cap.start), min(top.stop, cap.stop))
                    excess = np.maximum(DTYPE(0.0), abs_z[both.start - top.start: both.stop - top.start]
                                        - q["death_threshold"][both])
                    alive[both.start - cap.start: both.stop - cap.start] *= np.exp(-q["death_rate"][both] * excess)
                gate = np.clip(gate + rate[cap] * q["gate_rate"][cap] * gate * (one - gate), 0, 1)
            if weights.stop > weights.start:
                r = rate[weights]
                weight_norm2 = (weight_norm2 * (one - two * r * q["weight_decay"][weights])
                                + r * r * q["weight_injection"][weights] / weight_norm2)
        if kept_capacity is None:
            kept_capacity = np.ones_like(train)
        return Trajectory(train, val, grad, kept_capacity)

    def _noise_level(self, loss: np.ndarray) -> np.ndarray:
        ratio = np.minimum(np.abs(loss / self.q["noise_reference"]), DTYPE(1e6))
        return ratio ** self.q["noise_power"]

    def _kick(self, events: list, loss: np.ndarray, sharp: np.ndarray) -> None:
        for row, mode, value in events:
            if mode < 0:
                sharp[row - self.top.start] = value
                continue
            energy = value * max(float(loss[row]), 0.0)
            if np.isfinite(energy):
                self.second[mode, row] += DTYPE(2.0 * energy / self.h[mode, row])


def _link(excess: np.ndarray, scale: np.ndarray, power: np.ndarray):
    """Excess loss above ``scale`` grows like ``excess**power``; returns the loss and its slope."""
    above = np.flatnonzero(excess > scale)
    out, slope = excess.copy(), np.ones_like(excess)
    ratio = excess[above] / scale[above]
    p = power[above]
    out[above] = scale[above] * (DTYPE(1.0) + (ratio**p - DTYPE(1.0)) / p)
    slope[above] = ratio ** (p - DTYPE(1.0))
    return out, slope
