"""``check_initialization``: each weight matrix's mean and std against the He and Xavier expectations.

For a weight of fan-in ``n_in`` and fan-out ``n_out`` (PyTorch's ``(out, in, *kernel)`` layout
by default), He expects ``std = sqrt(2 / n_in)`` and Xavier ``std = sqrt(2 / (n_in + n_out))``.
A layer is flagged when its std is more than ``tolerance`` times below the smaller or above the
larger of the two (PyTorch's own default, ``1 / sqrt(3 n_in)``, passes with the default 3), when
its mean is further from 0 than ``mean_tol`` times that larger std (or its own std, if larger), when all its weights are
equal (symmetry is never broken), when a value lies beyond ``extreme`` times the larger std,
or when a value is NaN or infinite. One-dimensional parameters (biases, norm scales) are skipped.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> weights = [rng.normal(0, np.sqrt(2 / 256), (128, 256)), np.zeros(128), np.full((10, 128), 0.5)]
>>> report = check_initialization(weights)
>>> report["ok"]
False
>>> for name, layer in report["layers"].items():
...     print(name, layer["status"])
...     for issue in layer["issues"]:
...         print("   ", issue)
weight0 ok
weight2 bad
    all weights equal (0.5): symmetry is never broken
    mean 0.5 far from 0 (> 0.1 x 0.125)
    std 0 more than 3x below the Xavier std 0.12
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from curvebench.monitor._torch import is_tensor


def check_initialization(
    model_or_weights: Any,
    *,
    layout: str = "out_in",
    tolerance: float = 3.0,
    mean_tol: float = 0.1,
    extreme: float = 6.0,
) -> dict[str, Any]:
    """Check a torch model's weights, or a list of weight arrays (``layout`` ``"out_in"`` or ``"in_out"``).

    Returns ``{"ok": bool, "layers": {name: {shape, fan_in, fan_out, mean, std, max_abs, he_std,
    xavier_std, closest, status, issues}}}``; weight arrays are named ``weight0``, ``weight1``, ...
    by position.
    """
    if layout not in ("out_in", "in_out"):
        raise ValueError(f"layout must be 'out_in' or 'in_out', got {layout!r}")
    if not tolerance >= 1 or not mean_tol > 0 or not extreme > 0:
        raise ValueError("tolerance must be >= 1, mean_tol and extreme > 0")
    layers = {}
    for name, weight in _named_weights(model_or_weights):
        if weight.ndim < 2:
            continue
        layers[name] = _check_layer(weight, layout, tolerance, mean_tol, extreme)
    return {"ok": all(layer["status"] == "ok" for layer in layers.values()), "layers": layers}


def _named_weights(model_or_weights: Any) -> list[tuple[str, np.ndarray]]:
    if hasattr(model_or_weights, "named_parameters"):
        return [(name, p.detach().cpu().double().numpy()) for name, p in model_or_weights.named_parameters()]
    if isinstance(model_or_weights, np.ndarray) or not isinstance(model_or_weights, Sequence):
        raise TypeError("pass a torch model or a list of weight arrays")
    return [(f"weight{k}", _as_array(w)) for k, w in enumerate(model_or_weights)]


def _as_array(weight: Any) -> np.ndarray:
    if is_tensor(weight):
        return weight.detach().cpu().double().numpy()
    return np.asarray(weight, dtype=np.float64)


def _check_layer(w: np.ndarray, layout: str, tolerance: float, mean_tol: float, extreme: float) -> dict[str, Any]:
    receptive = int(np.prod(w.shape[2:])) if w.ndim > 2 else 1
    n_out, n_in = (w.shape[0], w.shape[1]) if layout == "out_in" else (w.shape[1], w.shape[0])
    fan_in, fan_out = n_in * receptive, n_out * receptive
    he, xavier = math.sqrt(2.0 / fan_in), math.sqrt(2.0 / (fan_in + fan_out))
    low, high = min(he, xavier), max(he, xavier)
    with np.errstate(invalid="ignore", over="ignore"):
        mean, std, max_abs = float(w.mean()), float(w.std()), float(np.abs(w).max())
    issues = []
    if not np.all(np.isfinite(w)):
        issues.append(f"{int(np.size(w) - np.isfinite(w).sum())} non-finite values")
    else:
        if std == 0:
            issues.append(f"all weights equal ({mean:g}): symmetry is never broken")
        spread = max(std, high)
        if abs(mean) > mean_tol * spread:
            issues.append(f"mean {mean:.3g} far from 0 (> {mean_tol:g} x {spread:.3g})")
        if std < low / tolerance:
            reference = "He" if he == low else "Xavier"
            issues.append(f"std {std:.3g} more than {tolerance:g}x below the {reference} std {low:.3g}")
        elif std > high * tolerance:
            reference = "He" if he == high else "Xavier"
            issues.append(f"std {std:.3g} more than {tolerance:g}x above the {reference} std {high:.3g}")
        if std > 0 and max_abs > extreme * high:
            issues.append(f"extreme value {max_abs:.3g} (> {extreme:g} x {high:.3g})")
    closest = "he" if abs(math.log(max(std, 1e-300) / he)) <= abs(math.log(max(std, 1e-300) / xavier)) else "xavier"
    return {
        "shape": tuple(w.shape), "fan_in": fan_in, "fan_out": fan_out, "mean": mean, "std": std,
        "max_abs": max_abs, "he_std": he, "xavier_std": xavier, "closest": closest,
        "status": "ok" if not issues else "bad", "issues": issues,
    }
