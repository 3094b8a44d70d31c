"""The task families: data that ships with installed packages or that the code generates, and their networks.

Nothing is downloaded. ``digits_*`` use scikit-learn's bundled 8x8 digits, ``diabetes_mlp``
its bundled diabetes regression set, ``charlm`` the dataset descriptions (``.rst``) that ship
inside scikit-learn, ``spirals_mlp`` three interleaved spirals generated here. Each split is
fixed (the same for every seed); a cause's ``n_train`` keeps only the first examples.

>>> data = load_data("diabetes_mlp", n_train=40)
>>> tuple(data.x_train.shape), data.loss
((40, 10), 'mse')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from curvebench.datasets.recorder._torch import torch
from curvebench.datasets.recorder.stacked import StackedNet

VAL_LIMIT = 512
CONTEXT = 8


@dataclass(frozen=True)
class TaskData:
    """Tensors of one task: inputs, targets, the loss (``"ce"`` or ``"mse"``) and the output width."""

    x_train: "torch.Tensor"
    y_train: "torch.Tensor"
    x_val: "torch.Tensor"
    y_val: "torch.Tensor"
    loss: str
    n_out: int

    def to(self, device) -> "TaskData":
        move = {k: getattr(self, k).to(device) for k in ("x_train", "y_train", "x_val", "y_val")}
        return TaskData(**move, loss=self.loss, n_out=self.n_out)


def load_data(task: str, n_train: int | None = None) -> TaskData:
    """The fixed train/validation split of ``task``, the training part cut to ``n_train`` examples."""
    x_tr, y_tr, x_va, y_va, loss, n_out = _arrays(task)
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    as_t = lambda a: torch.from_numpy(np.array(a))
    return TaskData(as_t(x_tr), as_t(y_tr), as_t(x_va[:VAL_LIMIT]), as_t(y_va[:VAL_LIMIT]), loss, n_out)


def build_net(task: str, config: dict, seeds: list[int], data: TaskData, device) -> StackedNet:
    """``len(seeds)`` independent copies of ``task``'s network, each initialised from its own seed."""
    widths = list(config["widths"])
    common = dict(
        activation=config["activation"], batchnorm=config["batchnorm"], dropout=config["dropout"],
        init_gain=config["init_gain"], hidden_bias=config["hidden_bias"], seeds=seeds, device=device,
    )
    if task == "digits_cnn":
        return StackedNet(front="conv", n_in=1, widths=widths, n_out=data.n_out, **common)
    if task == "charlm":
        return StackedNet(front="embed", n_in=int(data.n_out), widths=widths, n_out=data.n_out, **common)
    return StackedNet(front=None, n_in=int(data.x_train.shape[1]), widths=widths, n_out=data.n_out, **common)


@lru_cache(maxsize=None)
def _arrays(task: str):
    if task in ("digits_mlp", "digits_cnn", "digits_ae"):
        x, y = _digits()
        if task == "digits_cnn":
            x = x.reshape(-1, 1, 8, 8)
        if task == "digits_ae":
            return *_split(x, x), "mse", 64
        return *_split(x, y), "ce", 10
    if task == "diabetes_mlp":
        from sklearn.datasets import load_diabetes

        x, y = load_diabetes(return_X_y=True)
        x = _standardise(x)
        y = ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
        return *_split(x, y), "mse", 1
    if task == "spirals_mlp":
        return *_split(*_spirals()), "ce", 3
    if task == "charlm":
        return _chars()
    raise KeyError(f"unknown task {task!r}")


def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return ((x - x.mean()) / x.std()).astype(np.float32), y.astype(np.int64)


def _standardise(x: np.ndarray) -> np.ndarray:
    return ((x - x.mean(0)) / (x.std(0) + 1e-6)).astype(np.float32)


def _split(x: np.ndarray, y: np.ndarray, val_fraction: float = 0.3):
    order = np.random.default_rng(0).permutation(len(x))
    n_val = int(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def _spirals(n_per_arm: int = 500, arms: int = 3, noise: float = 1.0):
    rng = np.random.default_rng(0)
    t = rng.uniform(0.25, 1.0, (arms, n_per_arm)) * 3 * np.pi
    angle = t + 2 * np.pi * np.arange(arms)[:, None] / arms
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=-1).reshape(-1, 2) / (3 * np.pi)
    x = x + rng.normal(0, noise / (3 * np.pi), x.shape)
    y = np.repeat(np.arange(arms), n_per_arm)
    return (x * 2).astype(np.float32), y.astype(np.int64)


def _chars():
    """Character windows of the scikit-learn dataset descriptions: the first 90% trains, the rest validates."""
    folder = resources.files("sklearn.datasets") / "descr"
    text = "".join(sorted((p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".rst")),
                          key=len))
    vocab = sorted(set(text))
    codes = np.array([vocab.index(c) for c in text], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(codes, CONTEXT + 1)
    cut = int(len(windows) * 0.9)
    train, val = windows[:cut], windows[cut + CONTEXT:]
    val = val[np.random.default_rng(0).permutation(len(val))]
    x_tr, y_tr = np.ascontiguousarray(train[:, :-1]), np.ascontiguousarray(train[:, -1])
    return x_tr, y_tr, np.ascontiguousarray(val[:, :-1]), np.ascontiguousarray(val[:, -1]), "ce", len(vocab)
