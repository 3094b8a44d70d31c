"""Draw a monitored run: loss (raw, smoothed, validation), gradient norm and learning rate, step by step.

Built on matplotlib's object API, so nothing here touches the global pyplot state or backend.

>>> fig = draw_training_curves(None, steps=[0, 1, 2], loss=[2.0, 1.5, 1.2], smoothed=[2.0, 1.7, 1.4],
...                            val_steps=[2], val_loss=[1.3], grad_norm=[1.0, 0.8, 0.7], lr=[0.1, 0.1, 0.1])
>>> [ax.get_ylabel() for ax in fig.axes]
['loss', 'gradient norm', 'learning rate']
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def draw_training_curves(
    figure: Any,
    *,
    steps: Sequence[int],
    loss: Sequence[float],
    smoothed: Sequence[float],
    val_steps: Sequence[int] = (),
    val_loss: Sequence[float] = (),
    grad_norm: Sequence[float] = (),
    lr: Sequence[float] = (),
    alerts: Sequence[Any] = (),
) -> Any:
    """Draw onto ``figure`` (cleared first; a new ``Figure`` when ``None``) and return it.

    ``grad_norm`` and ``lr`` are step-aligned with ``loss`` (NaN where missing); alerts become
    vertical lines on the loss panel.
    """
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(8, 7), layout="constrained")
    figure.clear()
    loss_ax, grad_ax, lr_ax = figure.subplots(3, 1, sharex=True)
    loss_ax.plot(steps, loss, color="tab:blue", alpha=0.35, lw=0.8, label="train loss")
    loss_ax.plot(steps, smoothed, color="tab:blue", lw=1.6, label="smoothed")
    if len(val_steps):
        loss_ax.plot(val_steps, val_loss, "o-", color="tab:orange", ms=3, label="val loss")
    for alert in alerts:
        loss_ax.axvline(alert.step, color="tab:red", alpha=0.4, lw=0.8)
    loss_ax.set_ylabel("loss")
    loss_ax.legend(loc="upper right", fontsize="small")
    _log_panel(grad_ax, steps, grad_norm, "gradient norm", "tab:green")
    _log_panel(lr_ax, steps, lr, "learning rate", "tab:purple")
    lr_ax.set_xlabel("step")
    return figure


def _log_panel(ax: Any, steps: Sequence[int], values: Sequence[float], label: str, color: str) -> None:
    ax.set_ylabel(label)
    values = np.asarray(values, dtype=float)
    if values.size and np.any(np.isfinite(values) & (values > 0)):
        ax.plot(steps, values, color=color, lw=1.0)
        ax.set_yscale("log")
