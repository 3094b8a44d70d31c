"""``minirocket``: MiniRocket features of the resampled run and a ridge classifier over the five labels.

The run so far is resampled to ``length`` bins of nine channels
(:mod:`curvebench.detectors.resample`), turned into MiniRocket's PPV features
(:mod:`curvebench.detectors.rocket`) and scored by a one-vs-rest ridge regression (the
``RidgeClassifierCV`` recipe of the MiniRocket paper, penalty chosen by leave-one-out, classes
weighted equally). Probabilities are the softmax of the ridge scores times a temperature fitted
on a random fifth of the training prefixes held out of a first ridge fit. Streaming follows
:class:`~curvebench.detectors.sequence.SequenceDetector`.

Shipped parameters (``params/minirocket.npz``, plain arrays loaded with ``allow_pickle=False``) come
from ``train_params(seed=0)``: 1,000 simulated runs (``simulate_many(1000, seed=0)``), cut at the
training prefixes of every learned detector (``learned.prefix_cutoffs``); ``python
scripts/train_learned.py minirocket`` rewrites them.

Examples
--------
>>> import numpy as np
>>> from curvebench.run import Run
>>> steps = np.arange(400)
>>> loss = 2.0 * np.exp(-steps / 80) + 0.3 + 0.01 * np.random.default_rng(0).standard_normal(400)
>>> MiniRocketDetector().diagnose(Run.from_columns(steps, train_loss=loss)).label
'healthy'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import RidgeCV

from curvebench.detectors.resample import labeled_sketches
from curvebench.detectors.rocket import fit_kernels, transform
from curvebench.detectors.sequence import SequenceDetector, softmax
from curvebench.run import LABELS, RunSet

PARAMS = Path(__file__).with_name("params") / "minirocket.npz"
ALPHAS = np.logspace(-3, 3, 10)


class MiniRocketDetector(SequenceDetector):
    """MiniRocket + ridge on the resampled run; see the module. ``params``: a path, a dict or the shipped file."""

    name = "minirocket"

    def __init__(self, params: str | Path | dict | None = None, min_points: int = 10, recheck: float = 0.1,
                 every: int = 1000, n_features: int = 9996, seed: int = 0) -> None:
        self.params = params
        self.n_features = n_features
        self.seed = seed
        self.params_ = load_params(PARAMS if params is None else params)
        super().__init__(int(self.params_["length"]), min_points, recheck, every)

    def fit(self, runs: RunSet) -> "MiniRocketDetector":
        """Retrain on labeled ``runs`` (their prefixes, as :func:`labeled_sketches` cuts them)."""
        X, y = labeled_sketches(runs, self.length)
        self.params_ = fit_params(X, y, self.n_features, self.seed)
        return self.reset()

    def _probabilities(self, array: np.ndarray) -> np.ndarray:
        return predict_proba(self.params_, array[None])[0]


def load_params(source: str | Path | dict) -> dict[str, np.ndarray]:
    """Parameters from a dict (as is) or an ``.npz`` file (read without pickle)."""
    if isinstance(source, dict):
        return source
    return _read(str(source))


@lru_cache(maxsize=4)
def _read(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def save_params(params: dict[str, np.ndarray], path: str | Path) -> None:
    """Write ``params`` as an uncompressed ``.npz`` of plain arrays."""
    np.savez(path, **params)


def predict_proba(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Label probabilities ``(n, 5)`` for resampled runs ``X`` ``(n, channels, length)``."""
    scores = transform(X, params) @ params["coef"].T + params["intercept"]
    return softmax(params["temperature"] * scores)


def fit_params(X: np.ndarray, y: np.ndarray, n_features: int = 9996, seed: int = 0) -> dict[str, np.ndarray]:
    """Kernels, ridge weights and temperature for arrays ``X`` with label indices ``y``."""
    kernels = fit_kernels(X, n_features=n_features, seed=seed)
    features = transform(X, kernels)
    held_out = np.random.default_rng(seed).permutation(len(y)) < len(y) // 5
    first = _ridge(features[~held_out], y[~held_out])
    scores = features[held_out] @ first.coef_.T + first.intercept_
    temperature = _temperature(scores, y[held_out]) if held_out.any() else 1.0
    ridge = _ridge(features, y)
    return {**kernels, "coef": ridge.coef_, "intercept": ridge.intercept_,
            "temperature": np.float64(temperature), "alpha": np.float64(ridge.alpha_)}


def train_params(seed: int = 0, n_runs: int = 1000, n_features: int = 9996, length: int = 64,
                 runs: RunSet | None = None) -> dict[str, np.ndarray]:
    """The shipped parameters for ``seed``: ``simulate_many(n_runs, seed=seed)`` unless ``runs`` is given."""
    if runs is None:
        from curvebench.simulator.api import simulate_many

        runs = simulate_many(n_runs, seed=seed)
    X, y = labeled_sketches(runs, length)
    return fit_params(X, y, n_features, seed)


def _ridge(features: np.ndarray, y: np.ndarray) -> RidgeCV:
    targets = np.where(np.arange(len(LABELS)) == y[:, None], 1.0, -1.0)
    counts = np.bincount(y, minlength=len(LABELS))
    weights = len(y) / (np.count_nonzero(counts) * counts[y])
    return RidgeCV(alphas=ALPHAS).fit(features, targets, sample_weight=weights)


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    def loss(log_t: float) -> float:
        probs = softmax(np.exp(log_t) * scores)
        return -float(np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12))))

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))
