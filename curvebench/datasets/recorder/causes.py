"""Which real cause makes each label, per task family: plain training configs, no torch needed.

Every task family has a healthy base config (:data:`TASKS`); each label maps to a few
*variants*, each a change of that config that causes the failure for real (too high or
too low a learning rate, a small subset with a big unregularised model trained long,
dead ReLUs, saturated tanh units, a constant learning rate that needed decay). A seed
``s`` uses variant ``s % len(variants)``.

>>> [v["name"] for v in cause_variants("digits_mlp", "plateau")]
['dead_relu', 'saturated_tanh', 'constant_lr']
>>> cause_variants("digits_mlp", "lr_low")[0]["config"]["lr"] < TASKS["digits_mlp"]["lr"]
True
"""

from __future__ import annotations

from curvebench.run import LABELS

_BASE = {
    "activation": "relu",
    "batchnorm": False,
    "dropout": 0.0,
    "init_gain": 1.0,
    "hidden_bias": 0.0,
    "optimizer": "adamw",
    "momentum": 0.9,
    "weight_decay": 0.0,
    "schedule": "cosine",
    "warmup": 0,
    "clip": None,
    "n_train": None,
}

TASKS: dict[str, dict] = {
    "digits_mlp": {**_BASE, "widths": [128, 64], "lr": 2e-3, "weight_decay": 5e-2, "dropout": 0.2,
                   "schedule": "warmup_cosine", "warmup": 30, "steps": 400, "batch_size": 64},
    "digits_cnn": {**_BASE, "widths": [8, 16], "lr": 3e-3, "weight_decay": 1e-2, "steps": 500,
                   "batch_size": 64},
    "diabetes_mlp": {**_BASE, "widths": [16], "lr": 1e-3, "weight_decay": 5e-2, "steps": 400,
                     "batch_size": 256},
    "spirals_mlp": {**_BASE, "widths": [32] * 6, "lr": 3e-3, "weight_decay": 1e-2, "steps": 600, "batch_size": 128},
    "charlm": {**_BASE, "widths": [128], "lr": 3e-3, "weight_decay": 1e-2, "dropout": 0.1, "clip": 1.0,
               "schedule": "warmup_cosine", "warmup": 50, "steps": 800, "batch_size": 128},
    "digits_ae": {**_BASE, "widths": [64, 16, 64], "lr": 2e-3, "steps": 600, "batch_size": 64},
}
"""Healthy base config of each task family (the architecture itself lives in ``tasks.py``)."""

_SGD_HEALTHY = {
    "digits_mlp": {"optimizer": "sgd", "lr": 0.05, "batchnorm": True, "dropout": 0.0, "schedule": "cosine"},
    "digits_cnn": {"optimizer": "sgd", "lr": 0.05, "schedule": "step"},
    "diabetes_mlp": {"optimizer": "sgd", "lr": 0.003, "clip": 1.0},
    "spirals_mlp": {"optimizer": "sgd", "lr": 0.05, "batchnorm": True, "schedule": "warmup_cosine",
                    "warmup": 40},
    "charlm": {"optimizer": "sgd", "lr": 0.3, "dropout": 0.0},
    "digits_ae": {"optimizer": "sgd", "lr": 0.05, "schedule": "step"},
}

_OVERFIT = {
    "digits_mlp": {"widths": [256, 256], "n_train": 60, "steps": 1000},
    "digits_cnn": {"widths": [32, 64], "n_train": 60, "steps": 1000},
    "diabetes_mlp": {"widths": [256, 256], "n_train": 60, "steps": 1000, "lr": 3e-4},
    "spirals_mlp": {"widths": [256] * 3, "n_train": 100, "steps": 1000},
    "charlm": {"widths": [512], "n_train": 1500, "steps": 1000},
    "digits_ae": {"widths": [256, 256, 4, 256, 256], "activation": "tanh", "n_train": 20, "steps": 1000},
}
"""Per-task overfit config. The autoencoder memorises its 20 digits through a 4-wide tanh bottleneck:
a wide one (or a ReLU one) reconstructs held-out digits as well as training ones and never overfits."""

_OSCILLATION = {"digits_cnn": [45.0]}
"""Tasks with a fourth lr_high variant: AdamW warmed up over 50 steps to these multiples of its tuned
lr, then held, just below divergence; the loss swings without blowing up."""

_LR_HIGH = (100.0, 1000.0)
_KNOBS = {
    "default": {"lr_low": (3e-3, 1e-3), "constant_lr": 10.0},
    "digits_cnn": {"lr_low": (3e-3, 5e-4), "constant_lr": 3.0},
    "diabetes_mlp": {"lr_low": (1e-2, 1e-2), "constant_lr": 10.0},
    "charlm": {"lr_low": (3e-3, 1e-3), "constant_lr": 3.3},
    "digits_ae": {"lr_low": (3e-3, 1e-4), "constant_lr": 10.0},
}
"""Per-task strength of the learning-rate causes: lr_low (AdamW, SGD) factors and the constant-lr factor."""


def _knob(task: str, name: str):
    return _KNOBS.get(task, _KNOBS["default"])[name]


def cause_variants(task: str, label: str) -> list[dict]:
    """The variants that cause ``label`` on ``task``: dicts with ``name``, ``mechanism`` and ``config``.

    >>> cause_variants("charlm", "overfit")[0]["config"]["n_train"]
    1500
    """
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; expected one of {', '.join(sorted(TASKS))}")
    if label not in LABELS:
        raise KeyError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
    base = TASKS[task]
    variants = _VARIANTS[label](task, base)
    return [
        {"name": name, "mechanism": why, "config": {**base, **change, "lr": _round(change.get("lr", base["lr"]))}}
        for name, why, change in variants
    ]


def _round(lr: float) -> float:
    """Six significant digits, so ``0.05 * 0.1`` is stored as ``0.005``."""
    return float(f"{lr:.6g}")


def _healthy(task, base):
    second = ("tuned_sgd", "SGD with momentum 0.9 at a tuned lr", _SGD_HEALTHY[task])
    if task == "charlm":
        second = ("adamw_no_clip", "AdamW with a cosine schedule, no clipping, no dropout",
                  {"lr": 5e-3, "schedule": "cosine", "warmup": 0, "clip": None, "dropout": 0.0})
    return [("tuned_adamw", f"AdamW at lr {base['lr']:g} with a {base['schedule']} schedule", {}), second]


def _lr_high(task, base):
    return [
        (f"lr_x{factor:g}", f"learning rate {factor:g}x the tuned one, constant, no clipping",
         {"lr": base["lr"] * factor, "schedule": "constant", "warmup": 0, "clip": None})
        for factor in _LR_HIGH
    ] + [
        ("sgd_lr_x30", "SGD with momentum at 30x its tuned learning rate, constant, no clipping",
         {**_SGD_HEALTHY[task], "lr": _SGD_HEALTHY[task]["lr"] * 30, "schedule": "constant", "warmup": 0,
          "clip": None, "batchnorm": False}),
    ] + [
        (f"warmup_lr_x{factor:g}",
         (f"learning rate warmed up over 50 steps to {factor:g}x the tuned one, then "
          "constant: just below divergence, the loss swings"),
         {"lr": base["lr"] * factor, "schedule": "warmup_constant", "warmup": 50, "clip": None})
        for factor in _OSCILLATION.get(task, [])
    ]


def _lr_low(task, base):
    adam, sgd = _knob(task, "lr_low")
    return [
        (f"lr_x{adam:g}", f"learning rate {adam:g}x the tuned one, constant",
         {"lr": base["lr"] * adam, "schedule": "constant", "warmup": 0}),
        (f"sgd_lr_x{sgd:g}", f"SGD with momentum at {sgd:g}x its tuned learning rate, constant",
         {**_SGD_HEALTHY[task], "lr": _SGD_HEALTHY[task]["lr"] * sgd, "schedule": "constant", "warmup": 0}),
    ]


def _overfit(task, base):
    return [
        ("small_subset_big_model", "a small training subset, a large unregularised model, trained long",
         {"lr": 1e-3, **_OVERFIT[task], "optimizer": "adam", "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False,
          "schedule": "constant", "warmup": 0, "clip": None, "batch_size": 32}),
    ]


def _plateau(task, base):
    sgd = {**_SGD_HEALTHY[task], "batchnorm": False, "schedule": "constant", "warmup": 0}
    return [
        ("dead_relu", "hidden biases initialised at -20: every ReLU is dead from the start",
         {**sgd, "hidden_bias": -20.0}),
        ("saturated_tanh", "tanh units with hidden biases initialised at +20: saturated, gradients vanish",
         {**sgd, "lr": sgd["lr"] * 0.1, "activation": "tanh", "hidden_bias": 20.0}),
        ("constant_lr", "SGD at a high constant learning rate that needed decay",
         {**sgd, "lr": sgd["lr"] * _knob(task, "constant_lr")}),
    ]


_VARIANTS = {"healthy": _healthy, "lr_high": _lr_high, "lr_low": _lr_low, "overfit": _overfit,
             "plateau": _plateau}
