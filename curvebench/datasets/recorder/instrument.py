"""What the recorder measures at every optimizer step, per seed, without leaving the device.

Gradient norms are global L2 norms taken *before* clipping; ``update_ratio`` is
``||theta_{t+1} - theta_t|| / ||theta_t||``; the activation statistics follow the
``ActivationMonitor`` exercise: the fraction of dead ReLU units (zero for every example of
the batch) or, for tanh networks, of saturated units (``|a| > 0.99``), and the standard
deviation of the last hidden layer's activations.

>>> import torch
>>> acts = [torch.tensor([[[0.0, 1.0], [0.0, 2.0]]])]
>>> [round(v, 3) for v in activation_stats(acts, "relu")[0].tolist()]
[0.5, 0.957]
"""

from __future__ import annotations

from curvebench.datasets.recorder._torch import torch
from curvebench.datasets.recorder.stacked import StackedNet, per_seed_sq_norm

STEP_CHANNELS = ("train_loss", "grad_norm", "lr", "update_ratio", "grad_norm.first_layer", "grad_norm.last_layer",
                 "act_std")
"""Channels logged at every step, in the column order of :func:`step_stats`; then the activation channel."""


def activation_channel(activation: str) -> str:
    """``dead_relu_frac`` for ReLU networks, ``saturated_frac`` for tanh ones."""
    return "dead_relu_frac" if activation == "relu" else "saturated_frac"


def activation_stats(activations: list, activation: str) -> "torch.Tensor":
    """Per seed: (dead or saturated fraction over all hidden units, std of the last hidden layer).

    A ReLU unit is dead when its largest output over the batch is zero; the std is taken in
    two passes (a centred sum of squares), several times faster than ``Tensor.std`` on a CPU.
    """
    if activation == "relu":
        flags = [(a.amax(dim=1) <= 0).float() for a in activations]
    else:
        flags = [(a.abs() > 0.99).float().mean(dim=1) for a in activations]
    fraction = torch.cat(flags, dim=1).mean(dim=1)
    last = activations[-1].float().flatten(1)
    centred = last - last.mean(dim=1, keepdim=True)
    spread = centred.pow(2).sum(dim=1).div(last.shape[1] - 1).sqrt()
    return torch.stack([fraction, spread], dim=1)


def grad_norms(net: StackedNet) -> tuple:
    """Per-seed global gradient norm, and that of the first and of the last layer."""
    squares = {name: per_seed_sq_norm([p.grad]) for name, p in net.params.items()}
    layer = lambda name: sum(sq for key, sq in squares.items() if key.split(".")[0] == name)
    return sum(squares.values()).sqrt(), layer(net.layers[0]).sqrt(), layer(net.layers[-1]).sqrt()


def step_stats(loss, lr: float, norms: tuple, update_sq, param_sq, acts) -> "torch.Tensor":
    """One ``(seeds, channels)`` row block in the order of :data:`STEP_CHANNELS` plus the activation channel."""
    total, first, last = norms
    lr_column = torch.full_like(total, lr)
    ratio = update_sq.sqrt() / param_sq.sqrt()
    return torch.stack([loss.detach().float(), total, lr_column, ratio, first, last, acts[:, 1], acts[:, 0]], dim=1)
