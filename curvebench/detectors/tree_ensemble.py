"""Trained tree ensembles as plain arrays: exported from scikit-learn, evaluated here, saved without pickle.

A :class:`TreeEnsemble` holds every tree's nodes in flat arrays (``feature``, ``threshold``,
``left``, ``right``, ``missing_left``, ``value``) and each tree's root. A sample goes left when
``x[feature] <= threshold``, or when it is NaN and ``missing_left`` is set; a leaf's children are
itself, so all trees are walked together for ``depth`` levels, a few numpy operations per level
whatever the number of trees. Two kinds:

* ``"boosting"`` (from ``HistGradientBoostingClassifier``): ``value`` is one raw score per node;
  the trees come iteration by iteration, one per class; class scores are ``baseline`` plus the
  sum of their trees' leaves, divided by ``temperature`` (the calibration) and soft-maxed.
* ``"forest"`` (from ``RandomForestClassifier``): ``value`` holds class proportions per node
  (shape nodes x classes); probabilities are their mean over trees.

``save(path)`` writes one ``.npz`` of numeric arrays plus a ``.json`` of metadata beside it;
``load`` reads them back with ``allow_pickle=False``, so loading never unpickles anything.

>>> import numpy as np
>>> from sklearn.ensemble import RandomForestClassifier
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
>>> ensemble = TreeEnsemble.from_forest(forest)
>>> bool(np.allclose(ensemble.predict_proba(X), forest.predict_proba(X)))
True
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curvebench.detectors.learned import meta_path, save_arrays, save_meta, verified
from curvebench.errors import InputError

_ARRAYS = ("feature", "threshold", "left", "right", "missing_left", "value", "roots", "baseline")


@dataclass(eq=False)
class TreeEnsemble:
    """The nodes of every tree of a fitted ensemble, and how to turn leaves into probabilities."""

    kind: str
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: np.ndarray
    n_classes: int
    depth: int
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_boosting(cls, model, temperature: float = 1.0) -> "TreeEnsemble":
        """Export a fitted multiclass ``HistGradientBoostingClassifier`` (numeric features only)."""
        trees = [tree.nodes for iteration in model._predictors for tree in iteration]
        parts = [(nodes["feature_idx"], nodes["num_threshold"], nodes["left"], nodes["right"],
                  nodes["missing_go_to_left"], nodes["value"], nodes["is_leaf"]) for nodes in trees]
        baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
        return cls._pack("boosting", parts, baseline, len(model.classes_), temperature)

    @classmethod
    def from_forest(cls, model) -> "TreeEnsemble":
        """Export a fitted ``RandomForestClassifier``."""
        parts = []
        for estimator in model.estimators_:
            tree = estimator.tree_
            value = tree.value[:, 0, :]
            value = value / value.sum(axis=1, keepdims=True)
            missing = getattr(tree, "missing_go_to_left", np.ones(tree.node_count, dtype=bool))
            parts.append((tree.feature, tree.threshold, tree.children_left, tree.children_right,
                          missing, value, tree.children_left < 0))
        return cls._pack("forest", parts, np.zeros(0), len(model.classes_), 1.0)

    @classmethod
    def _pack(cls, kind, parts, baseline, n_classes, temperature) -> "TreeEnsemble":
        sizes = [len(p[0]) for p in parts]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        left, right = [], []
        for (_, _, lo, hi, _, _, leaf), offset in zip(parts, offsets):
            itself = np.arange(leaf.size, dtype=np.int64) + offset
            left.append(np.where(leaf, itself, np.asarray(lo, dtype=np.int64) + offset))
            right.append(np.where(leaf, itself, np.asarray(hi, dtype=np.int64) + offset))
        left, right = np.concatenate(left), np.concatenate(right)
        depth = _depth(left, right, offsets)
        return cls(
            kind=kind,
            feature=np.concatenate([np.where(p[6], 0, p[0]) for p in parts]).astype(np.int64),
            threshold=np.concatenate([p[1] for p in parts]).astype(np.float64),
            left=left, right=right, depth=depth,
            missing_left=np.concatenate([p[4] for p in parts]).astype(bool),
            value=np.concatenate([np.asarray(p[5], dtype=np.float64) for p in parts]),
            roots=offsets, baseline=baseline, n_classes=int(n_classes), temperature=float(temperature),
        )

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """The leaf each sample reaches in each tree, shape (samples, trees)."""
        X = np.asarray(X, dtype=np.float64).reshape(-1, X.shape[-1] if np.ndim(X) > 1 else np.size(X))
        node = np.broadcast_to(self.roots, (X.shape[0], self.roots.size))
        rows = np.arange(X.shape[0])[:, None]
        for _ in range(self.depth):
            x = X[rows, self.feature[node]]
            go_left = (x <= self.threshold[node]) | (np.isnan(x) & self.missing_left[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return node

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (samples, classes); rows sum to 1."""
        leaf = self.leaves(X)
        if self.kind == "forest":
            return _sum_over_trees(self.value[leaf]) / leaf.shape[1]
        per_tree = self.value[leaf].reshape(leaf.shape[0], -1, self.n_classes)
        scores = _sum_over_trees(per_tree) + self.baseline
        scores = scores / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=1, keepdims=True)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``path`` (``.npz``, numeric arrays only) and ``path`` with ``.json`` for the rest."""
        save_arrays(path, {name: getattr(self, name) for name in _ARRAYS})
        save_meta(path, {"kind": self.kind, "n_classes": self.n_classes, "depth": self.depth,
                         "temperature": self.temperature, "meta": self.meta})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TreeEnsemble":
        """Read what :meth:`save` wrote (never unpickles); :class:`InputError` for anything else."""
        path = os.fspath(path)
        try:
            with open(meta_path(path), encoding="utf-8") as handle:
                header = json.load(handle)
            with np.load(verified(path), allow_pickle=False) as arrays:
                data = {name: arrays[name] for name in _ARRAYS}
            return cls(kind=header["kind"], n_classes=header["n_classes"], depth=header["depth"],
                       temperature=header["temperature"], meta=header["meta"], **data)
        except InputError:
            raise
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
            raise InputError(path, "tree-ensemble parameters (.npz + .json) written by curvebench",
                             found=str(err)) from None


def _sum_over_trees(values: np.ndarray) -> np.ndarray:
    """Sum (samples, trees, classes) over trees in an order that does not depend on the sample count."""
    return np.ascontiguousarray(values.transpose(0, 2, 1)).sum(axis=2)


def _depth(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> int:
    """The number of levels of the deepest tree (a leaf's children are itself)."""
    depth, frontier = 0, roots
    while True:
        inner = frontier[left[frontier] != frontier]
        if not inner.size:
            return depth
        depth, frontier = depth + 1, np.concatenate([left[inner], right[inner]])
