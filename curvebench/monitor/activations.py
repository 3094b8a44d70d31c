"""``ActivationMonitor``: per-layer activation statistics, and which layers are dead, saturated, vanishing or exploding.

Feed it arrays with :meth:`ActivationMonitor.record`, or :meth:`ActivationMonitor.attach` it to a
PyTorch model: a forward hook on each activation layer keeps a reference to the layer's latest
output (nothing is computed in the hook), and :meth:`ActivationMonitor.collect` turns those
outputs into statistics when you ask. With ``one_shot=True`` the hooks capture a single forward
pass and then remove themselves; :meth:`ActivationMonitor.rearm` sets them for the next one, so
sampling every hundredth batch costs nothing on the other ninety-nine.

The statistics of one batch: ``mean``, ``std``, ``min``, ``max``, ``frac_zero`` (share of exactly
zero entries), ``frac_dead`` (share of units, i.e. all axes but the batch axis, that are zero for
every example) and ``frac_saturated`` (share of entries within ``saturation_margin`` of the
range's ends, for bounded activations only: tanh, sigmoid and the like; NaN when no bounds).

The diagnosis, per layer (thresholds are parameters):

- **dead**: ``frac_dead >= dead_frac`` (ReLU units that never fire);
- **saturated**: ``frac_saturated >= saturated_frac`` (tanh/sigmoid stuck at their ends);
- **vanishing**: ``std < vanishing_std`` (the signal is dying out);
- **exploding**: a non-finite value or ``max(|min|, |max|) > exploding_abs``.

>>> import numpy as np
>>> monitor = ActivationMonitor()
>>> rng = np.random.default_rng(0)
>>> hidden = np.maximum(rng.standard_normal((32, 10)), 0)
>>> hidden[:, :8] = 0.0
>>> _ = monitor.record("fc1.relu", hidden)
>>> _ = monitor.record("fc2.tanh", np.tanh(40 * rng.standard_normal((32, 10))), bounds=(-1.0, 1.0))
>>> round(monitor.stats["fc1.relu"].frac_dead, 2)
0.8
>>> for layer, issues in monitor.diagnose().items():
...     print(layer, issues)
fc1.relu ['dead: 80% of units are zero for the whole batch (>= 50%)']
fc2.tanh ['saturated: 96% of values within 1% of the ends of [-1, 1] (>= 30%)']
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from curvebench.monitor._torch import is_tensor, require_torch

BOUNDED_ACTIVATIONS: dict[str, tuple[float, float]] = {
    "Tanh": (-1.0, 1.0),
    "Softsign": (-1.0, 1.0),
    "Hardtanh": (-1.0, 1.0),
    "Sigmoid": (0.0, 1.0),
    "Hardsigmoid": (0.0, 1.0),
}
"""Output range of the bounded torch activation classes (``Hardtanh`` reads its own ``min_val``/``max_val``)."""


@dataclass(frozen=True)
class ActivationStats:
    """Statistics of one layer's output on one batch."""

    mean: float
    std: float
    min: float
    max: float
    frac_zero: float
    frac_dead: float
    frac_saturated: float

    def to_dict(self) -> dict[str, float]:
        """The statistics as a plain dict."""
        return asdict(self)


class ActivationMonitor:
    """Records activation statistics per layer and diagnoses them; see the module docstring."""

    def __init__(
        self,
        *,
        dead_frac: float = 0.5,
        saturated_frac: float = 0.3,
        saturation_margin: float = 0.01,
        vanishing_std: float = 1e-3,
        exploding_abs: float = 1e3,
    ) -> None:
        for name, value in [("dead_frac", dead_frac), ("saturated_frac", saturated_frac),
                            ("saturation_margin", saturation_margin)]:
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if not vanishing_std > 0 or not exploding_abs > 0:
            raise ValueError("vanishing_std and exploding_abs must be > 0")
        self.dead_frac = dead_frac
        self.saturated_frac = saturated_frac
        self.saturation_margin = saturation_margin
        self.vanishing_std = vanishing_std
        self.exploding_abs = exploding_abs
        self.stats: dict[str, ActivationStats] = {}
        self._latest: dict[str, Any] = {}
        self._bounds: dict[str, tuple[float, float] | None] = {}
        self._handles: dict[str, Any] = {}
        self._targets: list[tuple[str, Any]] = []
        self._one_shot = False

    def record(self, name: str, activations: Any, bounds: tuple[float, float] | None = None) -> ActivationStats:
        """Compute and keep the statistics of one batch of a layer's output (numpy array or tensor)."""
        if is_tensor(activations):
            stats = _tensor_stats(activations, bounds, self.saturation_margin)
        else:
            stats = _array_stats(np.asarray(activations, dtype=np.float64), bounds, self.saturation_margin)
        self.stats[name] = stats
        self._bounds[name] = bounds
        return stats

    def attach(self, model: Any, layers: list[str] | None = None, *, one_shot: bool = False) -> "ActivationMonitor":
        """Hook the activation layers of a torch ``model`` (or the named submodules ``layers``); returns ``self``.

        With ``one_shot``, each hook captures one forward pass and removes itself (see :meth:`rearm`).
        """
        require_torch("ActivationMonitor.attach")
        modules = dict(model.named_modules())
        if layers is None:
            layers = [n for n, m in modules.items() if n and type(m).__module__ == "torch.nn.modules.activation"]
        missing = [n for n in layers if n not in modules]
        if missing:
            raise KeyError(f"model has no submodule {missing[0]!r}; it has {sorted(n for n in modules if n)}")
        self.detach()
        self._targets = [(name, modules[name]) for name in layers]
        self._one_shot = one_shot
        for name, module in self._targets:
            self._bounds[name] = _module_bounds(module)
        return self.rearm()

    def rearm(self) -> "ActivationMonitor":
        """Hook the attached layers again (after :meth:`detach`, or for the next one-shot capture)."""
        self.detach()
        self._handles = {name: module.register_forward_hook(self._make_hook(name)) for name, module in self._targets}
        return self

    def detach(self) -> None:
        """Remove every hook; :meth:`rearm` puts them back."""
        for handle in self._handles.values():
            handle.remove()
        self._handles = {}

    def collect(self) -> dict[str, ActivationStats]:
        """Turn the hooked layers' latest outputs into statistics (then drop those outputs); returns :attr:`stats`."""
        latest, self._latest = self._latest, {}
        for name, output in latest.items():
            self.record(name, output, self._bounds.get(name))
        return self.stats

    def diagnose(self) -> dict[str, list[str]]:
        """The problems of each layer that has any (after :meth:`collect`), in recording order."""
        self.collect()
        report = {}
        for name, stats in self.stats.items():
            issues = self._issues(stats, self._bounds.get(name))
            if issues:
                report[name] = issues
        return report

    def _issues(self, s: ActivationStats, bounds: tuple[float, float] | None) -> list[str]:
        issues = []
        if s.frac_dead >= self.dead_frac:
            issues.append(f"dead: {s.frac_dead:.0%} of units are zero for the whole batch (>= {self.dead_frac:.0%})")
        if s.frac_saturated >= self.saturated_frac:
            low, high = bounds if bounds else (math.nan, math.nan)
            issues.append(
                f"saturated: {s.frac_saturated:.0%} of values within {self.saturation_margin:.0%} of the ends of "
                f"[{low:g}, {high:g}] (>= {self.saturated_frac:.0%})"
            )
        if s.std < self.vanishing_std:
            issues.append(f"vanishing: std {s.std:.2g} < {self.vanishing_std:g}")
        peak = max(abs(s.min), abs(s.max))
        if not math.isfinite(peak) or not math.isfinite(s.std) or peak > self.exploding_abs:
            issues.append(f"exploding: values reach {peak:.3g} (> {self.exploding_abs:g})")
        return issues

    def _make_hook(self, name: str):
        def hook(module, inputs, output):
            if is_tensor(output):
                self._latest[name] = output.detach()
            if self._one_shot and name in self._handles:
                self._handles.pop(name).remove()

        return hook


def _module_bounds(module: Any) -> tuple[float, float] | None:
    kind = type(module).__name__
    if kind == "Hardtanh":
        return float(module.min_val), float(module.max_val)
    return BOUNDED_ACTIVATIONS.get(kind)


def _array_stats(a: np.ndarray, bounds: tuple[float, float] | None, margin: float) -> ActivationStats:
    if a.size == 0:
        raise ValueError("cannot take statistics of an empty activation array")
    zero = a == 0
    dead = zero.reshape(a.shape[0], -1).all(axis=0) if a.ndim >= 2 else zero
    saturated = math.nan
    if bounds is not None:
        low, high = bounds
        tol = margin * (high - low)
        saturated = float(np.mean((a <= low + tol) | (a >= high - tol)))
    with np.errstate(invalid="ignore", over="ignore"):
        return ActivationStats(
            mean=float(a.mean()), std=float(a.std()), min=float(a.min()), max=float(a.max()),
            frac_zero=float(zero.mean()), frac_dead=float(dead.mean()), frac_saturated=saturated,
        )


def _tensor_stats(t: Any, bounds: tuple[float, float] | None, margin: float) -> ActivationStats:
    torch = require_torch("ActivationMonitor on tensors")
    t = t.detach().double()
    if t.numel() == 0:
        raise ValueError("cannot take statistics of an empty activation tensor")
    zero = t == 0
    dead = zero.reshape(t.shape[0], -1).all(dim=0) if t.dim() >= 2 else zero
    parts = [t.mean(), t.std(unbiased=False), t.min(), t.max(), zero.double().mean(), dead.double().mean()]
    if bounds is not None:
        low, high = bounds
        tol = margin * (high - low)
        parts.append(((t <= low + tol) | (t >= high - tol)).double().mean())
    values = torch.stack(parts).tolist()
    if bounds is None:
        values.append(math.nan)
    return ActivationStats(*values)
