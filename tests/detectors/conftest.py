"""Fixtures of the learned sequence detectors' tests."""

import numpy as np
import pytest

from curvebench.run import Run, RunSet


@pytest.fixture
def toy_runs():
    """A maker of small hand-made runs of every label (fast; the simulator trains the shipped ones)."""
    return make_toy_runs


def make_toy_runs(n_per_label: int = 3, seed: int = 0) -> RunSet:
    """``n_per_label`` runs of each label, in label order."""
    rng = np.random.default_rng(seed)
    runs = []
    for k in range(n_per_label):
        t = np.arange(120 + 20 * k)
        noise = np.exp(0.02 * rng.standard_normal(t.size))
        decay = 2.0 * np.exp(-t / 30) + 0.2
        shapes = {
            "healthy": (decay, None),
            "lr_high": (np.where(t < 60, decay, decay * np.exp((t - 60) / 10.0)), 60),
            "lr_low": (2.0 - 0.002 * t, 0),
            "overfit": (decay, 40),
            "plateau": (np.maximum(decay, 1.5), 10),
        }
        for label, (loss, onset) in shapes.items():
            val = decay + 0.1 + (0.01 * np.maximum(t - 40, 0) if label == "overfit" else 0.0)
            runs.append(Run.from_columns(t, train_loss=loss * noise, val_loss=[v if s % 10 == 9 else None
                        for s, v in zip(t, val)], label=label, onset_step=onset))
    return RunSet(runs)
