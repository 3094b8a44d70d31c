"""``features``: gradient boosting on scale-free curve features, with calibrated probabilities.

What it looks at: the vector of :mod:`curvebench.detectors.curve_features` (relative drops of
log-loss over windows, log-slopes and curvature, noise-to-trend ratio, spikes, non-finite counts,
the val-train gap and its growth, gradient-norm trends, learning-rate decay, missing-channel
indicators, and catch22's 22 standard time-series features of the log train loss), computed on
the run so far at each check of :class:`~curvebench.detectors.vector.VectorDetector`. The classifier is scikit-learn's
``HistGradientBoostingClassifier`` (depth 5, NaN for a missing channel routed by the trees),
exported to arrays and evaluated by :class:`~curvebench.detectors.tree_ensemble.TreeEnsemble`;
its probabilities are calibrated by one temperature fitted on a fifth of the training runs held
out from the boosting (by minimum log-loss). A non-finite train loss halves every probability and
gives the freed half to lr_high (so lr_high wins once a NaN shows).

Trained on simulated runs (``curvebench train --detector features`` rebuilds the shipped
parameters; the data and command are in ``params/features.json``). When it fails: on curve
shapes the simulator does not produce; a run judged on its first few points; its onsets are
resolved only to the check schedule (10% of the run so far).

>>> import numpy as np
>>> from curvebench.run import Run
>>> t = np.arange(400)
>>> loss = np.where(t < 300, 2.0 * np.exp(-t / 80) + 0.3, np.nan)
>>> FeaturesDetector().diagnose(Run.from_columns(t, train_loss=loss)).label
'lr_high'
"""

from __future__ import annotations

import math

import numpy as np

from curvebench.detectors.curve_features import FEATURE_NAMES, curve_features
from curvebench.detectors.learned import held_out
from curvebench.detectors.vector import VectorDetector
from curvebench.detectors.tree_ensemble import TreeEnsemble
from curvebench.run import LABELS


class FeaturesDetector(VectorDetector):
    """Calibrated gradient boosting on curve features; see the module."""

    name = "features"
    featurize = staticmethod(curve_features)
    feature_names = list(FEATURE_NAMES)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The calibrated probabilities; a non-finite train loss makes lr_high at least even odds.

        A NaN is certain evidence of divergence, which the trees (trained on runs that stop at
        their first NaN) need not have learned for runs that go on logging NaN afterwards.
        """
        probs = super().predict(x)
        if x[FEATURE_NAMES.index("train_any_nonfinite")]:
            probs = 0.5 * probs
            probs[LABELS.index("lr_high")] += 0.5
        return probs

    def explain(self, x: np.ndarray) -> list[str]:
        value = dict(zip(FEATURE_NAMES, x.tolist()))
        out = [f"log-loss change {value['drop_total']:+.2f} overall, {value['drop_last_quarter']:+.2f} "
               f"over the last quarter; rise from its minimum {value['rise_from_min']:.2f}"]
        if value["train_any_nonfinite"]:
            out.append(f"{value['train_nonfinite_share']:.0%} of train losses non-finite")
        if value["grad_present"] and math.isfinite(value["grad_max_rel"]):
            out.append(f"grad norm peaked {value['grad_max_rel']:+.2f} (log) above its start")
        if value["val_present"] and math.isfinite(value["val_rise_from_min"]):
            out.append(f"val loss {value['val_rise_from_min']:+.2f} (log) above its minimum, "
                       f"val-train gap grew {value['gap_rise_from_min']:+.2f} (log)")
        return out

    def _train(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> TreeEnsemble:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        calib = held_out(groups, self.seed)
        model = HistGradientBoostingClassifier(max_iter=150, max_depth=5, learning_rate=0.1,
                                               l2_regularization=1.0, early_stopping=False,
                                               random_state=self.seed)
        train = X[~calib].copy()
        train[:, np.isnan(train).all(axis=0)] = 0.0  # a feature no training run has: constant, never split on
        with threadpool_limits(limits=1, user_api="openmp"):  # one thread: no oversubscription, same trees
            model.fit(train, y[~calib])
        if sorted(set(model.classes_.tolist())) != list(range(len(LABELS))):
            raise ValueError("the training runs must cover every label")
        ensemble = TreeEnsemble.from_boosting(model)
        ensemble.temperature = fit_temperature(ensemble, X[calib], y[calib])
        return ensemble


def fit_temperature(ensemble: TreeEnsemble, X: np.ndarray, y: np.ndarray) -> float:
    """The temperature (on a grid from 0.5 to 4) that minimises the log-loss of ``ensemble`` on (X, y)."""
    best, best_loss = 1.0, math.inf
    for temperature in np.round(np.arange(0.5, 4.0001, 0.05), 2).tolist():
        ensemble.temperature = temperature
        p = ensemble.predict_proba(X)[np.arange(y.size), y]
        loss = float(-np.mean(np.log(np.maximum(p, 1e-12))))
        if loss < best_loss:
            best, best_loss = temperature, loss
    return best
