"""``minirocket`` (needs the ``rocket`` extra: sktime, numba): MiniRocket features and a ridge classifier.

The run so far is resampled to ``length`` bins of nine channels
(:mod:`curvebench.detectors.resample`) and turned into the PPV features of sktime's
``MiniRocketMultivariate`` (Dempster, Schmidt and Webb, KDD 2021), scored by a one-vs-rest
ridge regression (the ``RidgeClassifierCV`` recipe of the MiniRocket paper, penalty chosen by
leave-one-out, classes weighted equally). Probabilities are the softmax of the ridge scores
times a temperature fitted on the prefixes of a random fifth of the training runs, held out of
a first ridge fit (no run on both sides). Streaming follows
:class:`~curvebench.detectors.learned.LearnedDetector`.

Saved without pickle: the fitted transform is five integer and float arrays (channels per
kernel-dilation pair, channel indices, dilations, features per dilation, biases), stored with
the ridge weights in one ``.npz`` of plain arrays; :func:`transformer` rebuilds a fitted
``MiniRocketMultivariate`` from them. The shipped ``params/minirocket.npz`` (recipe in
``minirocket.json`` beside it) comes from ``curvebench train --detector minirocket``. sktime is
imported only when a detector is built or trained (its import takes over a second); numba
compiles sktime's transform on its first use after an install (about 35 s of CPU here), then
reads it from its cache (0.6 s).

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

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from curvebench.detectors.learned import held_out, recipe, save_arrays, save_meta, softmax, training_runs, verified
from curvebench.detectors.resample import labeled_sketches
from curvebench.detectors.sequence import SequenceDetector
from curvebench.run import LABELS, RunSet

PARAMS = Path(__file__).with_name("params") / "minirocket.npz"
ALPHAS = np.logspace(-3, 3, 10)
LENGTH = 64
TRANSFORM = ("channels_per_combination", "channel_indices", "dilations", "features_per_dilation", "biases")
"""The fitted ``MiniRocketMultivariate.parameters``, in sktime's order."""


class MiniRocketDetector(SequenceDetector):
    """MiniRocket + ridge on the resampled run; see the module. ``params``: a path, a dict or the shipped file."""

    name = "minirocket"

    def __init__(self, params: str | Path | dict | None = None, growth: float = 0.1, min_points: int = 10,
                 n_features: int = 9996, seed: int = 0) -> None:
        self.params = params
        self.n_features = n_features
        self.seed = seed
        shipped = params is None and PARAMS.exists()
        self.params_ = load_params(PARAMS if shipped else params) if shipped or params is not None else None
        self.transformer_ = None if self.params_ is None else transformer(self.params_)
        self.meta_: dict = {}
        super().__init__(LENGTH, growth, min_points)

    def fit(self, runs: RunSet) -> "MiniRocketDetector":
        """Retrain on labeled ``runs`` (their prefixes, as :func:`labeled_sketches` cuts them)."""
        self._fit_rows(*labeled_sketches(runs, LENGTH))
        self.meta_ = {}
        return self.reset()

    def train(self, seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> "MiniRocketDetector":
        """Fit on :func:`~curvebench.detectors.learned.training_runs`; the recipe goes in ``meta_``."""
        self.seed = seed
        X, y, groups = labeled_sketches(training_runs(seed, n_simulated, families), LENGTH)
        self._fit_rows(X, y, groups)
        self.meta_ = {**recipe(self.name, seed, n_simulated, families, X, y), "n_features": int(self.n_features),
                      "sktime": _version("sktime"), "numba": _version("numba")}
        return self.reset()

    def _fit_rows(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> None:
        self.params_ = fit_params(X, y, groups, self.n_features, self.seed)
        self.transformer_ = transformer(self.params_)

    def save(self, path: str | Path) -> None:
        """Write the parameters to ``path`` (``.npz`` of plain arrays) and the recipe beside it (``.json``)."""
        save_arrays(path, self.params_)
        save_meta(path, self.meta_)

    def _probabilities(self, array: np.ndarray) -> np.ndarray:
        if self.params_ is None:
            raise RuntimeError("minirocket has no parameters: fit it, or run `curvebench train --detector minirocket`")
        return predict_proba(self.params_, self.transformer_, array[None])[0]


def transformer(params: dict[str, np.ndarray]):
    """A fitted sktime ``MiniRocketMultivariate`` rebuilt from the saved arrays (no pickle, no refit)."""
    from sktime.transformations.rocket import MiniRocketMultivariate

    rebuilt = MiniRocketMultivariate(num_kernels=int(params["biases"].size), n_jobs=1,
                                     random_state=int(params["seed"]))
    rebuilt.parameters = tuple(params[key] for key in TRANSFORM)
    rebuilt.num_kernels_ = int(params["biases"].size)
    rebuilt._is_fitted = True
    return rebuilt


def features(fitted, X: np.ndarray) -> np.ndarray:
    """MiniRocket's features of arrays ``X`` ``(n, channels, length)`` as float64 ``(n, n_features)``.

    Calls the estimator's inner ``_transform`` on the numpy array: the same computation as
    ``transform`` without its input checks and conversions, which cost more than the transform
    of one run.
    """
    return fitted._transform(np.ascontiguousarray(X, dtype=np.float32)).to_numpy(dtype=np.float64)


def predict_proba(params: dict[str, np.ndarray], fitted, X: np.ndarray) -> np.ndarray:
    """Label probabilities ``(n, 5)`` for resampled runs ``X`` ``(n, channels, length)``."""
    scores = features(fitted, X) @ params["coef"].T + params["intercept"]
    return softmax(params["temperature"] * scores)


def fit_params(X: np.ndarray, y: np.ndarray, groups: np.ndarray, n_features: int = 9996,
               seed: int = 0) -> dict[str, np.ndarray]:
    """Transform, ridge weights and temperature for arrays ``X`` with label indices ``y`` of runs ``groups``."""
    from sktime.transformations.rocket import MiniRocketMultivariate

    state = np.random.get_state()  # sktime seeds numpy's global generator: leave it as it was
    try:
        fitted = MiniRocketMultivariate(num_kernels=n_features, n_jobs=1, random_state=seed).fit(X)
    finally:
        np.random.set_state(state)
    params = {key: np.asarray(value) for key, value in zip(TRANSFORM, fitted.parameters)}
    params.update(seed=np.int64(seed), length=np.int64(X.shape[-1]))
    table = features(fitted, X)
    held = held_out(groups, seed)
    first = _ridge(table[~held], y[~held])
    scores = table[held] @ first.coef_.T + first.intercept_
    temperature = _temperature(scores, y[held]) if held.any() else 1.0
    ridge = _ridge(table, y)
    return {**params, "coef": ridge.coef_, "intercept": ridge.intercept_,
            "temperature": np.float64(temperature), "alpha": np.float64(ridge.alpha_)}


def load_params(source: str | Path | dict) -> dict[str, np.ndarray]:
    """Parameters from a dict (as is) or an ``.npz`` file (read without pickle)."""
    if isinstance(source, dict):
        return source
    path = verified(source)
    return _read(path, os.stat(path).st_mtime_ns)


@lru_cache(maxsize=4)
def _read(path: str, modified: int) -> dict[str, np.ndarray]:
    """The arrays of ``path`` as last ``modified`` (so a rewritten file is read again)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _ridge(table: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import RidgeCV

    targets = np.where(np.arange(len(LABELS)) == y[:, None], 1.0, -1.0)
    counts = np.bincount(y, minlength=len(LABELS))
    weights = len(y) / (np.count_nonzero(counts) * counts[y])
    return RidgeCV(alphas=ALPHAS).fit(table, targets, sample_weight=weights)


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        probs = softmax(np.exp(log_t) * scores)
        return -float(np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12))))

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
