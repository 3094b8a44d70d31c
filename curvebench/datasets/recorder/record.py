"""Record real runs: train each cause's seeds as one stack, log every step, keep only verified runs.

>>> result = record("diabetes_mlp", "lr_high", seeds=[0], device="cpu", steps=60)
>>> result.attempted, len(result.runs) + sum(result.discarded.values())
(1, 1)
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from curvebench.datasets.recorder._torch import torch
from curvebench.datasets.recorder.causes import cause_variants
from curvebench.datasets.recorder.instrument import (
    STEP_CHANNELS, activation_channel, activation_stats, grad_norms, step_stats,
)
from curvebench.datasets.recorder.stacked import StackedOptimizer, clip_per_seed, per_seed_sq_norm
from curvebench.datasets.recorder.tasks import build_net, load_data
from curvebench.datasets.recorder.verify import verify_run
from curvebench.run import Channel, Run, RunSet

EVALUATIONS = 25
"""Validation evaluations per run (plus one before the first step)."""
F = torch.nn.functional


@dataclass
class RecordResult:
    """Verified runs, how many were attempted, and why the others were discarded (reason -> count)."""

    runs: RunSet
    attempted: int = 0
    discarded: Counter = field(default_factory=Counter)

    def __add__(self, other: "RecordResult") -> "RecordResult":
        return RecordResult(self.runs + other.runs, self.attempted + other.attempted,
                            self.discarded + other.discarded)


def resolve_device(device: str) -> "torch.device":
    """``"auto"`` is CUDA when available, else the CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def record(task: str, label: str, seeds, *, device: str = "auto", amp: bool | None = None,
           steps: int | None = None, progress: bool = False) -> RecordResult:
    """Record ``task`` with ``label``'s cause for each seed; seed ``s`` uses variant ``s % n_variants``.

    ``amp`` (default: on for CUDA) trains under autocast with a per-seed dynamic loss scale,
    logged as ``loss_scale``; ``steps`` overrides the cause's run length (for quick tests).
    """
    dev = resolve_device(device)
    amp = dev.type == "cuda" if amp is None else amp
    variants = cause_variants(task, label)
    result = RecordResult(RunSet())
    for index, variant in enumerate(variants):
        chosen = [int(s) for s in seeds if int(s) % len(variants) == index]
        if not chosen:
            continue
        config = dict(variant["config"], **({"steps": steps} if steps else {}))
        runs = train_stack(task, config, chosen, dev, amp=amp, progress=progress,
                           desc=f"{task}/{label}/{variant['name']}")
        for seed, run in zip(chosen, runs):
            result.attempted += 1
            check = verify_run(run, label)
            if not check.passed:
                result.discarded[check.reason] += 1
                continue
            verdict = check.verdict
            run.label, run.mode, run.onset_step = verdict.label, verdict.mode, verdict.onset_step
            run.run_id = f"{task}-{label}-{variant['name']}-s{seed:04d}"
            run.meta = {
                "source": "recorded", "task": task,
                "cause": {"label": label, "name": variant["name"], "mechanism": variant["mechanism"],
                          "config": config},
                "seed": seed, "device": dev.type, "torch": torch.__version__, "amp": amp,
                "verified_by": verdict.mode,
            }
            result.runs = result.runs + RunSet([run])
    return result


def record_grid(tasks, labels, seeds, **options) -> dict:
    """:func:`record` for every task x label; ``{(task, label): RecordResult}`` in that order."""
    return {(task, label): record(task, label, seeds, **options) for task in tasks for label in labels}


def summarise(results: dict) -> list[dict]:
    """One row per task x label: attempted, kept, and the discard reasons with their counts.

    >>> summarise({("t", "overfit"): RecordResult(RunSet(), 2, Counter({"no rule matched": 2}))})
    [{'task': 't', 'label': 'overfit', 'attempted': 2, 'kept': 0, 'discarded': {'no rule matched': 2}}]
    """
    return [
        {"task": task, "label": label, "attempted": r.attempted, "kept": len(r.runs),
         "discarded": dict(sorted(r.discarded.items()))}
        for (task, label), r in results.items()
    ]


def lr_at(step: int, config: dict) -> float:
    """The learning rate of ``config``'s schedule at ``step``.

    >>> lr_at(0, {"lr": 1.0, "schedule": "warmup_cosine", "warmup": 10, "steps": 100})
    0.1
    >>> lr_at(99, {"lr": 1.0, "schedule": "step", "warmup": 0, "steps": 100})
    0.010000000000000002
    >>> lr_at(4, {"lr": 1.0, "schedule": "warmup_constant", "warmup": 10, "steps": 100})
    0.5
    """
    base, total, warmup, kind = config["lr"], config["steps"], config["warmup"], config["schedule"]
    if kind == "constant":
        return base
    if kind == "warmup_constant":
        return base * min(1.0, (step + 1) / max(1, warmup))
    if kind == "step":
        return base * 0.1 ** (step * 3 // total)
    scale = min(1.0, (step + 1) / warmup) if kind == "warmup_cosine" and warmup else 1.0
    progress = (step - warmup) / max(1, total - warmup) if kind == "warmup_cosine" else step / total
    return base * scale * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def train_stack(task: str, config: dict, seeds: list[int], device, *, amp: bool = False, progress: bool = False,
                desc: str = "") -> list[Run]:
    """Train one network per seed, all in one stack; return one unlabeled :class:`Run` per seed."""
    data = load_data(task, config["n_train"]).to(device)
    net = build_net(task, config, seeds, data, device)
    opt = StackedOptimizer(net.params.values(), config["optimizer"], momentum=config["momentum"],
                           weight_decay=config["weight_decay"])
    n_steps, batch, n_seeds = config["steps"], config["batch_size"], len(seeds)
    samplers = [np.random.default_rng([seed, 1]) for seed in seeds]
    every = max(1, n_steps // EVALUATIONS)
    eval_steps = list(range(0, n_steps, every))
    width = len(STEP_CHANNELS) + 1 + (1 if amp else 0)
    log = torch.empty(n_steps, n_seeds, width, device=device)
    val_log = torch.empty(len(eval_steps), n_seeds, device=device)
    scaler = LossScaler(n_seeds, device) if amp else None
    cast = torch.float16 if device.type == "cuda" else torch.bfloat16
    bar = _progress(n_steps, desc, progress)
    for step in range(n_steps):
        if step % every == 0:
            val_log[step // every] = _evaluate(net, data)
        index = torch.from_numpy(np.stack([s.integers(0, len(data.x_train), batch) for s in samplers])).to(device)
        x, y = data.x_train[index], data.y_train[index]
        with torch.autocast(device.type, dtype=cast, enabled=amp):
            loss = _loss(net(x), y, data.loss)
        if scaler is None:
            loss.sum().backward()
            active = None
        else:
            active = scaler.backward(loss, net.params.values())
        norms = grad_norms(net)
        if config["clip"]:
            clip_per_seed(net.params.values(), norms[0], config["clip"])
        lr = lr_at(step, config)
        param_sq = per_seed_sq_norm(net.params.values())
        update_sq = opt.step(lr, active)
        opt.zero_grad()
        row = step_stats(loss, lr, norms, update_sq, param_sq, activation_stats(net.activations, config["activation"]))
        log[step] = row if scaler is None else torch.cat([row, scaler.scale[:, None]], dim=1)
        bar.update(1)
    bar.close()
    return _runs(log.cpu().numpy(), val_log.cpu().numpy(), eval_steps, config["activation"], amp)


class LossScaler:
    """Per-seed dynamic loss scale for mixed precision: a seed whose gradients overflow skips its step
    and halves its scale; a scale doubles after :attr:`GROWTH_INTERVAL` good steps in a row."""

    GROWTH_INTERVAL = 200

    def __init__(self, n_seeds: int, device) -> None:
        self.scale = torch.full((n_seeds,), 2.0**16 if device.type == "cuda" else 1.0, device=device)
        self._good = torch.zeros(n_seeds, device=device)

    def backward(self, loss, params):
        """Backpropagate the scaled per-seed ``loss``, unscale the gradients; return the seeds that may step."""
        params = list(params)
        (loss.float() * self.scale).sum().backward()
        for p in params:
            p.grad.div_(self.scale.view(-1, *([1] * (p.dim() - 1))))
        active = torch.isfinite(per_seed_sq_norm(p.grad for p in params))
        self._good = torch.where(active, self._good + 1, torch.zeros_like(self._good))
        self.scale = torch.where(active, self.scale, self.scale / 2)
        grow = self._good >= self.GROWTH_INTERVAL
        self.scale = torch.where(grow, self.scale * 2, self.scale)
        self._good = torch.where(grow, torch.zeros_like(self._good), self._good)
        return active


def _loss(out, y, kind: str):
    if kind == "ce":
        s, b = y.shape[:2]
        return F.cross_entropy(out.float().reshape(s * b, -1), y.reshape(-1), reduction="none").view(s, b).mean(1)
    return (out.float() - y).pow(2).flatten(1).mean(1)


@torch.no_grad()
def _evaluate(net, data):
    net.train(False)
    n_seeds = net.n_seeds
    x = data.x_val.unsqueeze(0).expand(n_seeds, *data.x_val.shape)
    y = data.y_val.unsqueeze(0).expand(n_seeds, *data.y_val.shape)
    loss = _loss(net(x), y, data.loss)
    net.train(True)
    return loss


def _runs(log: np.ndarray, val_log: np.ndarray, eval_steps: list[int], activation: str, amp: bool) -> list[Run]:
    names = [*STEP_CHANNELS, activation_channel(activation)] + (["loss_scale"] if amp else [])
    steps = np.arange(log.shape[0])
    val_steps = np.asarray(eval_steps)
    runs = []
    for seed in range(log.shape[1]):
        channels = {name: Channel(steps, log[:, seed, i].astype(np.float64)) for i, name in enumerate(names)}
        channels["val_loss"] = Channel(val_steps, val_log[:, seed].astype(np.float64))
        runs.append(Run(channels))
    return runs


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, mininterval=0.5)
