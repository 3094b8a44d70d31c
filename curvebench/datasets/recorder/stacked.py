"""Many seeds in one pass: ``S`` copies of a small network whose weights carry a leading seed axis.

Linear layers are batched matrix products (``baddbmm``), convolutions are grouped
convolutions with one group per seed, BatchNorm normalises each seed's batch alone, and
dropout masks come from each seed's own generator; seeds never mix, so training 32 of them
costs about one larger matrix product. :class:`StackedOptimizer` is SGD with momentum, Adam
or AdamW applied elementwise to the stacked weights, with per-seed gradient clipping and
an optional per-seed mask of steps to skip (mixed-precision overflow).

>>> import torch
>>> net = StackedNet(front=None, n_in=4, widths=[8], n_out=3, activation="relu", batchnorm=False,
...                  dropout=0.0, init_gain=1.0, hidden_bias=0.0, seeds=[0, 1], device="cpu")
>>> tuple(net(torch.zeros(2, 5, 4)).shape)
(2, 5, 3)
"""

from __future__ import annotations

import math

from curvebench.datasets.recorder._torch import torch

F = torch.nn.functional
_GAINS = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0}


class StackedNet:
    """An MLP (optionally behind a conv or embedding front) for ``len(seeds)`` seeds at once.

    ``front="conv"``: two 3x3 convolutions (the second with stride 2) over ``widths[:2]``
    channels, then a linear read-out; ``front="embed"``: a 16-wide character embedding of
    an 8-character context, then the hidden layers. Hidden layers get ``hidden_bias`` as
    their initial bias and He/Xavier-scaled weights times ``init_gain``.
    """

    def __init__(self, *, front, n_in, widths, n_out, activation, batchnorm, dropout, init_gain, hidden_bias,
                 seeds, device):
        self.front, self.activation, self.batchnorm, self.dropout = front, activation, batchnorm, dropout
        self.n_seeds = len(seeds)
        self.training = True
        self.activations: list = []
        gain = _GAINS[activation] * init_gain
        shapes = self._shapes(front, n_in, list(widths), n_out)
        self.layers = [name for name, *_ in shapes]
        per_seed = []
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            tensors = {}
            for name, w_shape, fan_in, hidden in shapes:
                scale = (gain if hidden else 1.0) / math.sqrt(fan_in)
                tensors[f"{name}.weight"] = torch.randn(w_shape, generator=gen) * scale
                if name == "embed":
                    continue
                bias_shape = (w_shape[0],) if name.startswith("conv") else (1, w_shape[-1])
                tensors[f"{name}.bias"] = torch.full(bias_shape, hidden_bias if hidden else 0.0)
            per_seed.append(tensors)
        self.params = {k: torch.stack([t[k] for t in per_seed]).to(device).requires_grad_() for k in per_seed[0]}
        if batchnorm:
            for name, _, _, hidden in shapes:
                if hidden and name.startswith("fc"):
                    width = self.params[f"{name}.weight"].shape[-1]
                    self.params[f"{name}.bn_scale"] = torch.ones(self.n_seeds, 1, width, device=device,
                                                                 requires_grad=True)
                    self.params[f"{name}.bn_shift"] = torch.zeros(self.n_seeds, 1, width, device=device,
                                                                  requires_grad=True)
        self._running: dict = {}
        self._dropout_gens = [torch.Generator(device=device).manual_seed(int(s) + 7919) for s in seeds]

    @staticmethod
    def _shapes(front, n_in, widths, n_out):
        """``(name, weight shape, fan_in, is_hidden)`` for every layer, input to output."""
        shapes = []
        if front == "conv":
            c1, c2 = widths[:2]
            shapes += [("conv0", (c1, n_in, 3, 3), n_in * 9, True), ("conv1", (c2, c1, 3, 3), c1 * 9, True)]
            n_in, widths = c2 * 16, widths[2:]
        elif front == "embed":
            shapes.append(("embed", (n_in, 16), 1, False))
            n_in = 16 * 8
        for i, width in enumerate(widths):
            shapes.append((f"fc{i}", (n_in, width), n_in, True))
            n_in = width
        shapes.append(("out", (n_in, n_out), n_in, False))
        return shapes

    def train(self, mode: bool = True) -> "StackedNet":
        self.training = mode
        return self

    def __call__(self, x):
        """Forward ``x`` of shape ``(seeds, batch, ...)``; keeps hidden activations in ``activations``."""
        self.activations = []
        p = self.params
        if self.front == "conv":
            s, b = x.shape[:2]
            h = x.transpose(0, 1).reshape(b, s * x.shape[2], *x.shape[3:])
            for name, stride in (("conv0", 1), ("conv1", 2)):
                w = p[f"{name}.weight"]
                h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), p[f"{name}.bias"].reshape(-1), stride=stride,
                             padding=1, groups=s)
                h = self._act(h, by_seed=lambda a: a.reshape(b, s, -1).transpose(0, 1))
            x = h.reshape(b, s, -1).transpose(0, 1)
        elif self.front == "embed":
            seeds = torch.arange(self.n_seeds, device=x.device)[:, None, None]
            x = p["embed.weight"][seeds, x].flatten(2)
        for name in self.layers:
            if not name.startswith("fc"):
                continue
            x = torch.baddbmm(p[f"{name}.bias"], x, p[f"{name}.weight"])
            if self.batchnorm:
                x = self._norm(name, x)
            x = self._act(x)
            if self.dropout and self.training:
                x = x * self._mask(x.shape[1:]) / (1 - self.dropout)
        return torch.baddbmm(p["out.bias"], x, p["out.weight"])

    def _act(self, x, by_seed=lambda a: a.flatten(2)):
        """The activation; keeps ``by_seed(output)``, a ``(seeds, batch, units)`` view, for the statistics."""
        x = torch.relu(x) if self.activation == "relu" else torch.tanh(x)
        if self.training:
            self.activations.append(by_seed(x.detach()))
        return x

    def _norm(self, name, x):
        if self.training or name not in self._running:
            mean, var = x.mean(1, keepdim=True), x.var(1, keepdim=True, unbiased=False)
        else:
            mean, var = self._running[name]
        if self.training:
            old = self._running.get(name)
            new = (mean.detach(), var.detach())
            self._running[name] = new if old is None else tuple(0.9 * o + 0.1 * n for o, n in zip(old, new))
        x = (x - mean) / torch.sqrt(var + 1e-5)
        return x * self.params[f"{name}.bn_scale"] + self.params[f"{name}.bn_shift"]

    def _mask(self, shape):
        keep = 1.0 - self.dropout
        return torch.stack([torch.rand(shape, generator=g, device=g.device) < keep for g in self._dropout_gens])

    def layer_params(self, layer: str) -> list:
        """The parameter tensors of ``layer`` (weight, bias and BatchNorm scale/shift)."""
        return [t for k, t in self.params.items() if k.split(".")[0] == layer]


def per_seed_sq_norm(tensors) -> "torch.Tensor":
    """Sum of squares over everything but the leading seed axis, summed over ``tensors``."""
    return sum(t.detach().float().pow(2).flatten(1).sum(1) for t in tensors)


@torch.no_grad()
def clip_per_seed(params, norms, max_norm: float) -> None:
    """Scale each seed's gradients so that its global norm (``norms``, per seed) is at most ``max_norm``."""
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef.view(-1, *([1] * (p.dim() - 1))))


class StackedOptimizer:
    """SGD (with momentum), Adam or AdamW over stacked weights; :meth:`step` returns ``||update||^2`` per seed.

    >>> import torch
    >>> w = torch.ones(2, 3, requires_grad=True)
    >>> w.grad = torch.ones(2, 3)
    >>> opt = StackedOptimizer([w], "sgd", momentum=0.0, weight_decay=0.0)
    >>> opt.step(0.5).tolist()
    [0.75, 0.75]
    """

    def __init__(self, params, kind: str, *, momentum: float, weight_decay: float):
        if kind not in ("sgd", "adam", "adamw"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.params, self.kind, self.momentum, self.weight_decay = list(params), kind, momentum, weight_decay
        self._state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]
        self._t = 0

    @torch.no_grad()
    def step(self, lr: float, active=None):
        """Apply one update at ``lr``; seeds where ``active`` is false are left untouched."""
        self._t += 1
        moved = torch.zeros(self.params[0].shape[0], device=self.params[0].device)
        for p, (m, v) in zip(self.params, self._state):
            g = p.grad
            if self.kind != "adamw" and self.weight_decay:
                g = g.add(p, alpha=self.weight_decay)
            if active is not None:
                keep = active.view(-1, *([1] * (p.dim() - 1)))
                old_m, old_v = m.clone(), v.clone()
            if self.kind == "sgd":
                update = m.mul_(self.momentum).add_(g) * -lr
            else:
                m.mul_(0.9).add_(g, alpha=0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                denom = (v / (1 - 0.999**self._t)).sqrt_().add_(1e-8)
                update = torch.div(m, denom).mul_(-lr / (1 - 0.9**self._t))
                if self.kind == "adamw" and self.weight_decay:
                    update.add_(p, alpha=-lr * self.weight_decay)
            if active is not None:
                update = torch.where(keep, update, torch.zeros_like(update))
                m.copy_(torch.where(keep, m, old_m))
                v.copy_(torch.where(keep, v, old_v))
            p.add_(update)
            moved += update.float().pow(2).flatten(1).sum(1)
        return moved

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None
