"""Draw docs/gallery.png (every simulator mode side by side) and docs/classes.png (one panel per label).

Usage: python scripts/make_gallery.py [--out docs]. Deterministic: fixed seeds, lengths and severity.
"""

from __future__ import annotations

import argparse
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from curvebench.run import LABELS  # noqa: E402
from curvebench.simulator import SCENARIOS, simulate  # noqa: E402

SHOW = dict(steps=1500, log_every=3, log_reduce="last", eval_every=50, has_val=True, has_grad_norm=True,
            has_lr=True, noise_shape="skewed", loss_noise=0.015)
"""Settings shared by every panel, so differences come from the modes alone."""
SEEDS = {"lr_high/oscillation": 3, "healthy/catapult": 12, "lr_high/spikes": 4, "lr_high/collapse": 3,
         "healthy/spiky": 5, "healthy/eos": 6, "healthy/saddle": 1}
STEPS = {"healthy/catapult": dict(steps=300, log_every=1, eval_every=10), "healthy/eos": dict(log_every=1)}
ZOOM = {"healthy/eos": (700, 760), "lr_high/oscillation": (1300, 1360)}
"""Steps shown magnified in an inset (oscillations too fine to see at full scale)."""
"""Per-mode seeds and lengths chosen so each panel shows its mode's feature."""
CLASS_MODES = {"healthy": "healthy/smooth", "lr_high": "lr_high/divergence", "lr_low": "lr_low/slow",
               "overfit": "overfit/memorization", "plateau": "plateau/early"}


def example(mode: str, severity: float = 0.7):
    settings = {**SHOW, **STEPS.get(mode, {})}
    return simulate(mode.split("/")[0], mode=mode, seed=SEEDS.get(mode, 1), severity=severity, **settings)


def draw(ax, run, *, grad: bool = True, title: str | None = None) -> None:
    train = run.channel("train_loss")
    ax.plot(train.steps, train.values, lw=0.5, color="tab:blue", label="train")
    if run.has("val_loss"):
        val = run.channel("val_loss")
        ax.plot(val.steps, val.values, "o-", ms=2, lw=0.9, color="tab:orange", label="val")
    bad = train.steps[~np.isfinite(train.values)]
    if bad.size:
        ax.axvspan(bad[0], train.steps[-1], color="tab:red", alpha=0.15, label="NaN")
    if run.onset_step is not None:
        ax.axvline(run.onset_step, color="black", ls="--", lw=0.9, label="onset")
    shown = np.concatenate([train.values] + ([run.channel("val_loss").values] if run.has("val_loss") else []))
    finite = shown[np.isfinite(shown)]  # the y-range holds both losses
    low, high = np.percentile(finite, [0.5, 99.0])
    if low > 0 and finite.max() / low > 50:
        ax.set_yscale("log")
    else:
        ax.set_ylim(low - 0.05 * (high - low), high + 0.15 * (high - low))
    ax.tick_params(labelsize=6)
    if grad and run.has("grad_norm"):
        twin = ax.twinx()
        g = run.channel("grad_norm")
        keep = np.isfinite(g.values) & (g.values > 0)
        twin.semilogy(g.steps[keep], g.values[keep], color="tab:green", lw=0.4, alpha=0.6)
        twin.tick_params(labelsize=5, colors="tab:green")
    ax.set_title(title or run.mode, fontsize=8)


def gallery(path: str) -> None:
    modes = list(SCENARIOS)
    cols = 5
    rows = -(-len(modes) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows))
    for ax, mode in zip(axes.flat, modes):
        run = example(mode)
        story = textwrap.fill(SCENARIOS[mode].story, 48)
        draw(ax, run, title=f"{mode}\n{story}")
        ax.title.set_fontsize(6.5)
        if mode in ZOOM:
            train = run.channel("train_loss")
            keep = (train.steps >= ZOOM[mode][0]) & (train.steps <= ZOOM[mode][1])
            inset = ax.inset_axes([0.45, 0.45, 0.5, 0.4])
            inset.plot(train.steps[keep], train.values[keep], ".-", ms=2, lw=0.5, color="tab:blue")
            inset.tick_params(labelsize=5)
            inset.set_title(f"steps {ZOOM[mode][0]}-{ZOOM[mode][1]}", fontsize=5)
    for ax in axes.flat[len(modes):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="upper right")
    fig.suptitle("curvebench simulator: every mode (train loss blue, validation orange, onset dashed, "
                 "gradient norm green on a log axis)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def classes(path: str) -> None:
    fig, axes = plt.subplots(1, len(LABELS), figsize=(3.0 * len(LABELS), 2.5))
    for ax, label in zip(axes, LABELS):
        draw(ax, example(CLASS_MODES[label], 0.2 if label == "lr_low" else 0.7), grad=False, title=label)
        ax.set_xlabel("step", fontsize=6)
    axes[0].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gallery(os.path.join(args.out, "gallery.png"))
    classes(os.path.join(args.out, "classes.png"))


if __name__ == "__main__":
    main()
