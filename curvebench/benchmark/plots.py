"""PNG plots of an evaluation, one figure per suite and kind, one panel per detector (matplotlib Agg).

* ``confusion-SUITE.png``: confusion matrices (counts, shaded by the share of each true class);
* ``pr-SUITE.png``: precision-recall curves per class, one-vs-rest on the final probabilities;
* ``delays-SUITE.png``: detection delays (steps from the onset to the first streamed correct
  verdict) per detector;
* ``severity-SUITE.png``: accuracy against ``meta["knobs"]["severity"]`` per pathology, in five
  bins over [0, 1]; only for suites whose runs carry a severity (simulated runs do).

``SUITE`` is the suite's name made file-safe. Figures are drawn with ``matplotlib.figure.Figure``
(no pyplot, no global backend state).
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

from curvebench.benchmark.metrics import COLUMNS, ratios
from curvebench.run import LABELS

SEVERITY_BINS = 5


def write_plots(result: dict, folder: str | os.PathLike) -> list[str]:
    """Draw every plot of an ``evaluate_suites`` result into ``folder``; the paths written."""
    paths = []
    for suite, suite_result in result["suites"].items():
        detectors = suite_result["detectors"]
        kinds = [("confusion", _confusion), ("pr", _precision_recall), ("delays", _delays)]
        if any(p["severity"] is not None for s in detectors.values() for p in s["predictions"]):
            kinds.append(("severity", _severity))
        for kind, draw in kinds:
            path = os.path.join(folder, f"{kind}-{slug(suite)}.png")
            figure = draw(detectors)
            figure.suptitle(f"{kind}: {suite}")
            figure.savefig(path, dpi=80)
            paths.append(path)
    return paths


def slug(name: str) -> str:
    """A file-safe version of a suite name or path.

    >>> slug("tests/data/suite/"), slug("sim-v1")
    ('tests_data_suite', 'sim-v1')
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "suite"


def _panels(n: int, size: float = 3.6) -> tuple[Figure, list]:
    cols = min(4, max(1, n))
    rows = math.ceil(max(1, n) / cols)
    figure = Figure(figsize=(size * cols, size * rows + 0.5), layout="tight")
    axes = figure.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return figure, axes


def _confusion(detectors: dict) -> Figure:
    figure, axes = _panels(len(detectors))
    for ax, (name, s) in zip(axes, detectors.items()):
        counts = np.array([[s["confusion"][row][col] for col in COLUMNS] for row in LABELS])
        shares = ratios(counts, counts.sum(axis=1, keepdims=True))
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(counts):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(COLUMNS)), [c[:7] for c in COLUMNS], rotation=45, ha="right")
        ax.set_yticks(range(len(LABELS)), LABELS)
        ax.set_title(f"{name} (rows: true)")
    return figure


def _precision_recall(detectors: dict) -> Figure:
    figure, axes = _panels(len(detectors))
    for ax, (name, s) in zip(axes, detectors.items()):
        true = [p["label"] for p in s["predictions"]]
        for label in LABELS:
            positive = np.array([t == label for t in true])
            if not positive.any():
                continue
            score = np.array([p["probabilities"][label] for p in s["predictions"]])
            precision, recall, _ = precision_recall_curve(positive, score)
            ax.step(recall, precision, where="post", label=label)
        ax.set(xlim=(0, 1.02), ylim=(0, 1.05), xlabel="recall", ylabel="precision", title=name)
        if ax.lines:
            ax.legend(fontsize="small")
    return figure


def _delays(detectors: dict) -> Figure:
    figure = Figure(figsize=(7, 0.5 * len(detectors) + 1.5), layout="tight")
    ax = figure.subplots()
    names = list(detectors)
    with_delays = [(k, detectors[name]["delays"]) for k, name in enumerate(names) if detectors[name]["delays"]]
    if with_delays:
        ax.boxplot([d for _, d in with_delays], positions=[k for k, _ in with_delays], orientation="horizontal")
    else:
        ax.text(0.5, 0.5, "no correctly named pathology with a known onset", ha="center", transform=ax.transAxes)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.5, len(names) - 0.5)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("steps from onset to the first streamed correct verdict")
    return figure


def _severity(detectors: dict) -> Figure:
    figure, axes = _panels(len(detectors))
    edges = np.linspace(0, 1, SEVERITY_BINS + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    for ax, (name, s) in zip(axes, detectors.items()):
        rated = [p for p in s["predictions"] if p["severity"] is not None and p["label"] != "healthy"]
        for label in sorted({p["label"] for p in rated}):
            runs = [p for p in rated if p["label"] == label]
            index = np.minimum((np.array([p["severity"] for p in runs]) * SEVERITY_BINS).astype(int), SEVERITY_BINS - 1)
            hits = np.bincount(index, weights=[float(p["predicted"] == label) for p in runs], minlength=SEVERITY_BINS)
            counts = np.bincount(index, minlength=SEVERITY_BINS)
            seen = counts > 0
            ax.plot(centers[seen], ratios(hits, counts)[seen], marker="o", label=label)
        ax.set(xlim=(0, 1), ylim=(-0.05, 1.05), xlabel="severity", ylabel="accuracy (recall)", title=name)
        if rated:
            ax.legend(fontsize="small")
    return figure
