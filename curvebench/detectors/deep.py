"""``deep`` (needs torch): a small 1-D convolutional network on the resampled run.

Input: the nine channels of :mod:`curvebench.detectors.resample` at ``length`` bins (log channels
divided by 5; the ``has_*`` mask channels tell the network which channels are missing, so a missing
channel's zeros are never mistaken for data). Network: three Conv1d layers (32 maps, kernel 5,
dilations 1, 2, 4) with ReLU, then the mean, max and last bin of each map into one linear layer to
the five labels; probabilities are its softmax (inference on one thread). Training is deterministic
on CPU (one thread, deterministic algorithms, seeded shuffling): same seed, same weights bit for
bit.

Shipped weights (``params/deep.pt``, a ``state_dict`` read with ``torch.load(weights_only=True)``;
recipe in ``deep.json`` beside it) come from ``curvebench train --detector deep``: 1,000 simulated
runs (``simulate_many(1000, seed=0)``) cut at the training prefixes of every learned detector
(``learned.prefix_cutoffs``), 40 epochs of Adam. torch is imported only when a
``DeepDetector`` is built or trained.

Examples
--------
>>> import numpy as np
>>> from curvebench.run import Run
>>> steps = np.arange(400)
>>> loss = 2.0 * np.exp(-steps / 80) + 0.3 + 0.01 * np.random.default_rng(0).standard_normal(400)
>>> DeepDetector().diagnose(Run.from_columns(steps, train_loss=loss)).label
'healthy'
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from curvebench.detectors.learned import recipe, save_meta, softmax, training_runs, verified
from curvebench.detectors.resample import CHANNELS, labeled_sketches
from curvebench.detectors.sequence import SequenceDetector
from curvebench.run import LABELS, RunSet

PARAMS = Path(__file__).with_name("params") / "deep.pt"
LENGTH = 64
WIDTH = 32
_SCALE = np.array([5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])[:, None]


class DeepDetector(SequenceDetector):
    """1-D CNN on the resampled run; see the module. ``params``: a path, a ``state_dict`` or the shipped file."""

    name = "deep"
    suffix = ".pt"

    def __init__(self, params: str | Path | dict | None = None, growth: float = 0.1, min_points: int = 10,
                 epochs: int = 40, seed: int = 0) -> None:
        self.params = params
        self.epochs = epochs
        self.seed = seed
        self.network_ = build_network()
        self.network_.load_state_dict(load_params(PARAMS if params is None else params))
        self.network_.eval()
        self.meta_: dict = {}
        super().__init__(LENGTH, growth, min_points)

    def fit(self, runs: RunSet) -> "DeepDetector":
        """Retrain on labeled ``runs`` (their prefixes, as :func:`labeled_sketches` cuts them)."""
        X, y, _ = labeled_sketches(runs, LENGTH)
        self._fit_rows(X, y)
        self.meta_ = {}
        return self.reset()

    def train(self, seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> "DeepDetector":
        """Fit on :func:`~curvebench.detectors.learned.training_runs`; the recipe goes in ``meta_``."""
        import torch

        self.seed = seed
        X, y, _ = labeled_sketches(training_runs(seed, n_simulated, families), LENGTH)
        self._fit_rows(X, y)
        self.meta_ = {**recipe(self.name, seed, n_simulated, families, X, y), "epochs": self.epochs,
                      "torch": torch.__version__}
        return self.reset()

    def save(self, path: str | Path) -> None:
        """Write the weights to ``path`` (a ``state_dict``, ``torch.save``) and the recipe beside it (``.json``)."""
        import torch

        torch.save(self.network_.state_dict(), path)
        save_meta(path, self.meta_)

    def _fit_rows(self, X: np.ndarray, y: np.ndarray) -> None:
        self.network_.load_state_dict(fit_params(X, y, self.epochs, self.seed))
        self.network_.eval()

    def _probabilities(self, array: np.ndarray) -> np.ndarray:
        return predict_proba(self.network_, array[None])[0]


def build_network():
    """The untrained network (``torch.nn.Sequential``)."""
    import torch
    from torch import nn

    class Summary(nn.Module):
        """Mean, max and last bin of every feature map: where the run is now, and what it went through."""

        def forward(self, x):
            return torch.cat([x.mean(-1), x.amax(-1), x[..., -1]], dim=1)

    layers = []
    for depth, inputs in enumerate((len(CHANNELS), WIDTH, WIDTH)):
        layers += [nn.Conv1d(inputs, WIDTH, 5, padding=2 * 2**depth, dilation=2**depth), nn.ReLU()]
    return nn.Sequential(*layers, Summary(), nn.Linear(3 * WIDTH, len(LABELS)))


def load_params(source: str | Path | dict) -> dict:
    """A ``state_dict`` as given, or read from a file with ``torch.load(weights_only=True)``."""
    import torch

    if isinstance(source, dict):
        return source
    return torch.load(verified(source), map_location="cpu", weights_only=True)


def predict_proba(network, X: np.ndarray) -> np.ndarray:
    """Label probabilities ``(n, 5)`` for resampled runs ``X`` ``(n, channels, length)``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 9 x 64 input: more threads only wait on each other
    try:
        with torch.no_grad():
            scores = network(torch.from_numpy((X / _SCALE).astype(np.float32))).double().numpy()
    finally:
        torch.set_num_threads(threads)
    return softmax(scores)


def fit_params(X: np.ndarray, y: np.ndarray, epochs: int = 40, seed: int = 0, batch_size: int = 64) -> dict:
    """Train the network on arrays ``X`` with label indices ``y``; its ``state_dict``."""
    import torch

    with _deterministic(torch):
        torch.manual_seed(seed)
        network = build_network()
        inputs = torch.from_numpy((X / _SCALE).astype(np.float32))
        targets = torch.from_numpy(y)
        counts = np.bincount(y, minlength=len(LABELS)).astype(np.float64)
        weights = np.where(counts > 0, len(y) / (np.count_nonzero(counts) * np.maximum(counts, 1)), 0.0)
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(weights.astype(np.float32)))
        optimizer = torch.optim.Adam(network.parameters(), lr=3e-3, weight_decay=1e-4)
        order = torch.Generator().manual_seed(seed)
        network.train()
        for _ in range(epochs):
            for batch in torch.randperm(len(y), generator=order).split(batch_size):
                optimizer.zero_grad()
                loss_fn(network(inputs[batch]), targets[batch]).backward()
                optimizer.step()
        return {key: value.detach().clone() for key, value in network.state_dict().items()}


@contextmanager
def _deterministic(torch):
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(strict)
