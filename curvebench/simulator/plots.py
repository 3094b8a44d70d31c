"""Pictures of runs: a PNG per run (matplotlib, Agg backend) and a small plot for the terminal.

:func:`plot_run` draws the loss panel (training loss, validation loss, onset) above a panel
with the gradient norm and learning rate on log scales. :func:`ascii_plot` draws a loss
channel with text only, for the practice quiz.

>>> from curvebench.run import Run
>>> run = Run.from_columns([0, 1, 2, 3], train_loss=[2.0, 1.5, 1.2, float("nan")])
>>> print(ascii_plot(run, width=8, height=3))
2   *      x  train_loss (* train, o val, x non-finite, | onset)
    . *
1.2 . .  *
    0 .. 3
"""

from __future__ import annotations

import math
import os

import numpy as np

from curvebench.run import Run


def plot_run(run: Run, path: str | os.PathLike, *, title: str | None = None, hide_truth: bool = False) -> None:
    """Write a PNG of ``run`` to ``path``; ``hide_truth`` leaves out the label and onset (for the quiz)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    has_lower = run.has("grad_norm") or run.has("lr")
    fig, axes = plt.subplots(2 if has_lower else 1, 1, figsize=(7, 5 if has_lower else 3.4), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [2, 1] if has_lower else [1]})
    loss = axes[0, 0]
    train = run.channel("train_loss")
    loss.plot(train.steps, train.values, lw=0.7, color="tab:blue", label="train_loss")
    if run.has("val_loss"):
        val = run.channel("val_loss")
        loss.plot(val.steps, val.values, "o-", ms=2.5, lw=1.0, color="tab:orange", label="val_loss")
    bad = train.steps[~np.isfinite(train.values)]
    if bad.size:
        loss.axvspan(bad[0], bad[-1], color="tab:red", alpha=0.15, label="non-finite loss")
    if run.onset_step is not None and not hide_truth:
        loss.axvline(run.onset_step, color="black", ls="--", lw=1.0, label=f"onset {run.onset_step}")
    low, high = _range(np.concatenate([c.values for n, c in run.channels.items() if n in ("train_loss", "val_loss")]))
    if high > low:
        loss.set_ylim(low, high)
    loss.set_ylabel("loss")
    loss.legend(fontsize=7, loc="upper right")
    if has_lower:
        lower = axes[1, 0]
        for name, color in (("grad_norm", "tab:green"), ("lr", "tab:purple")):
            if run.has(name):
                channel = run.channel(name)
                positive = np.isfinite(channel.values) & (channel.values > 0)
                lower.plot(channel.steps[positive], channel.values[positive], lw=0.7, color=color, label=name)
        lower.set_yscale("log")
        lower.set_xlabel("step")
        lower.legend(fontsize=7, loc="upper right")
    else:
        loss.set_xlabel("step")
    if title is None:
        title = run.run_id if hide_truth else f"{run.run_id}: {run.mode or run.label}"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _range(values: np.ndarray) -> tuple[float, float]:
    """A y-range that shows the bulk of the curve (0.5-99.5 percentiles), not one blown-up point."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 0.0
    low, high = np.percentile(finite, [0.5, 99.5])
    pad = 0.08 * (high - low) if high > low else 0.5 * abs(high) + 1e-12
    return float(low - pad), float(high + pad)


def ascii_plot(run: Run, *, width: int = 64, height: int = 14, show_onset: bool = False) -> str:
    """The training (``*``) and validation (``o``) loss as text; non-finite points as ``x`` on the top row."""
    train = run.channel("train_loss")
    series = [(train, "*")] + ([(run.channel("val_loss"), "o")] if run.has("val_loss") else [])
    first = int(run.steps[0])
    last = max(int(run.steps[-1]), first + 1)
    finite = np.concatenate([c.values[np.isfinite(c.values)] for c, _ in series])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    log = low > 0 and high / low > 30
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)  # noqa: E731
    lo, hi = scale(low), scale(high)
    span = hi - lo or 1.0
    grid = [[" "] * width for _ in range(height)]
    for channel, mark in series:
        for step, value in zip(channel.steps, channel.values):
            col = min(width - 1, int((step - first) / (last - first) * (width - 1) + 0.5))
            if not np.isfinite(value):
                grid[0][col] = "x"
                continue
            row = height - 1 - min(height - 1, int((scale(value) - lo) / span * (height - 1) + 0.5))
            if grid[row][col] in (" ", "."):
                grid[row][col] = mark
            for below in range(row + 1, height):
                if grid[below][col] == " " and mark == "*":
                    grid[below][col] = "."
    if show_onset and run.onset_step is not None:
        col = min(width - 1, int((run.onset_step - first) / (last - first) * (width - 1) + 0.5))
        for row in grid:
            if row[col] in (" ", "."):
                row[col] = "|"
    label_top, label_bottom = _fmt(high), _fmt(low)
    pad = max(len(label_top), len(label_bottom)) + 1
    lines = []
    for i, row in enumerate(grid):
        label = label_top if i == 0 else label_bottom if i == height - 1 else ""
        lines.append(f"{label:<{pad}}{''.join(row)}".rstrip() if i else
                     f"{label:<{pad}}{''.join(row)}  train_loss{' (log scale)' if log else ''} "
                     "(* train, o val, x non-finite, | onset)")
    lines.append(f"{'':<{pad}}{first} .. {last}")
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:.4g}"
