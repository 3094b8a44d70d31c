"""``AutoTrainer``: a training step that repairs itself: roll back on NaN or explosion, decay the LR on a plateau.

Not to be confused with :class:`curvebench.detectors.AutoTrainer`, the *detector* that applies
the published AUTOTRAINER rules to a logged run and only names the problem. This class wraps a
live torch model, optimizer and loss function and acts:

- a non-finite loss, a gradient norm above ``grad_explosion`` (or non-finite), or the smoothed
  loss risen more than ``rise_tol`` (relative) above its best *and* above the loss the run
  (re)started from (worse than where it began is never noise): model and optimizer go back to the
  last good checkpoint (a non-finite or exploding step is not applied) and every parameter
  group's learning rate is multiplied by ``backoff``;
- a plateau (``plateau_patience`` steps without the smoothed loss improving by
  ``plateau_min_delta``, relative): the learning rate is multiplied by ``plateau_factor``.

A checkpoint is taken at the start and then every ``checkpoint_every`` steps while the step was
healthy and the smoothed loss is within ``checkpoint_tolerance`` of its best, in memory or, with
``checkpoint_dir``, on disk (``torch.save``; read back with ``torch.load(weights_only=True)``).
Every intervention is logged on the ``curvebench.monitor`` logger and kept in
:attr:`AutoTrainer.interventions`. The learning rate is set on the optimizer's parameter groups:
a scheduler that rewrites it each step overrides these changes.

>>> import torch
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = torch.nn.Linear(4, 1)
>>> trainer = AutoTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.functional.mse_loss)
>>> x, y = torch.randn(32, 4), torch.randn(32, 1)
>>> losses = [trainer.train_step(x, y) for _ in range(20)]
>>> losses[-1] < losses[0], trainer.interventions
(True, [])
"""

from __future__ import annotations

import copy
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Callable

from curvebench.monitor._torch import require_torch
from curvebench.monitor.alerts import AnomalyAlarms
from curvebench.monitor.history import TrainingHistory

logger = logging.getLogger("curvebench.monitor")


@dataclass(frozen=True)
class Intervention:
    """One repair: at ``step``, ``kind`` (``"rollback"`` or ``"lr_decay"``) for ``reason``."""

    step: int
    kind: str
    reason: str
    lr_before: float
    lr_after: float
    restored_step: int | None = None

    def __str__(self) -> str:
        restored = "" if self.restored_step is None else f", restored the checkpoint of step {self.restored_step}"
        lr = f"lr {self.lr_before:.3g} -> {self.lr_after:.3g}"
        return f"step {self.step}: {self.kind} ({self.reason}){restored}; {lr}"


class AutoTrainer:
    """Wraps ``model``, ``optimizer`` and ``loss_fn(outputs, targets)``; see the module docstring."""

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss_fn: Callable[[Any, Any], Any],
        *,
        grad_explosion: float = 100.0,
        backoff: float = 0.1,
        rise_tol: float = 0.25,
        plateau_patience: int = 200,
        plateau_min_delta: float = 1e-3,
        plateau_factor: float = 0.5,
        min_lr: float = 1e-8,
        checkpoint_every: int = 20,
        checkpoint_tolerance: float = 0.1,
        checkpoint_dir: str | os.PathLike | None = None,
    ) -> None:
        self._torch = require_torch("AutoTrainer")
        for name, value in [("backoff", backoff), ("plateau_factor", plateau_factor)]:
            if not 0 < value < 1:
                raise ValueError(f"{name} must be in (0, 1), got {value}")
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.grad_explosion = grad_explosion
        self.backoff = backoff
        self.rise_tol = rise_tol
        self.plateau_patience = plateau_patience
        self.plateau_min_delta = plateau_min_delta
        self.plateau_factor = plateau_factor
        self.min_lr = min_lr
        self.checkpoint_every = checkpoint_every
        self.checkpoint_tolerance = checkpoint_tolerance
        self.checkpoint_dir = checkpoint_dir
        self.alarms = self._new_alarms()
        self._start_loss: float | None = None
        self.history = TrainingHistory()
        self.interventions: list[Intervention] = []
        self.step = 0
        self._memory: dict[str, Any] | None = None
        self._checkpoint_step = 0
        self._save_checkpoint()

    @property
    def lr(self) -> float:
        """The first parameter group's learning rate."""
        return self.optimizer.param_groups[0]["lr"]

    @property
    def checkpoint_path(self) -> str | None:
        """Where the on-disk checkpoint lives (``None`` when kept in memory)."""
        if self.checkpoint_dir is None:
            return None
        return os.path.join(os.fspath(self.checkpoint_dir), "autotrainer-last-good.pt")

    def train_step(self, inputs: Any, targets: Any) -> float:
        """One forward/backward/optimizer step with the checks; returns the loss (NaN stays NaN)."""
        step = self.step
        self.step += 1
        self.optimizer.zero_grad()
        loss_tensor = self.loss_fn(self.model(inputs), targets)
        loss = float(loss_tensor.detach())
        if not math.isfinite(loss):
            self.history.record(loss, math.nan, self.lr)
            self._rollback(step, f"loss is {loss}")
            return loss
        loss_tensor.backward()
        grad_norm = self._grad_norm()
        self.history.record(loss, grad_norm, self.lr)
        if not grad_norm <= self.grad_explosion:
            self.optimizer.zero_grad()
            self._rollback(step, f"gradient norm {grad_norm:.3g} > {self.grad_explosion:g}")
            return loss
        self.optimizer.step()
        if any(alert.kind == "plateau" for alert in self.alarms.check(step, loss, grad_norm)):
            self._scale_lr(step, "lr_decay", f"no improvement for {self.alarms.plateau_patience} steps",
                           self.plateau_factor)
        if self._start_loss is None:
            self._start_loss = loss
        if self.alarms.smoothed > max(self.alarms.best * (1 + self.rise_tol), self._start_loss):
            self._rollback(step, f"smoothed loss {self.alarms.smoothed:.4g} rose over {self.rise_tol:.0%} "
                                 f"above its best {self.alarms.best:.4g}")
            return loss
        near_best = self.alarms.smoothed <= self.alarms.best * (1 + self.checkpoint_tolerance)
        if step + 1 - self._checkpoint_step >= self.checkpoint_every and near_best:
            self._checkpoint_step = step + 1
            self._save_checkpoint()
        return loss

    def _new_alarms(self) -> AnomalyAlarms:
        return AnomalyAlarms(grad_explosion=self.grad_explosion, plateau_patience=self.plateau_patience,
                             plateau_min_delta=self.plateau_min_delta)

    def _grad_norm(self) -> float:
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        return float(self._torch.nn.utils.get_total_norm(grads)) if grads else 0.0

    def _rollback(self, step: int, reason: str) -> None:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        state = self._load_checkpoint()
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.alarms = self._new_alarms()
        self._start_loss = None
        self._scale_lr(step, "rollback", reason, self.backoff, restored_step=self._checkpoint_step)

    def _scale_lr(self, step: int, kind: str, reason: str, factor: float, restored_step: int | None = None) -> None:
        before = self.lr
        for group in self.optimizer.param_groups:
            group["lr"] = max(group["lr"] * factor, min(group["lr"], self.min_lr))
        intervention = Intervention(step, kind, reason, before, self.lr, restored_step)
        self.interventions.append(intervention)
        logger.warning("AutoTrainer %s", intervention)

    def _save_checkpoint(self) -> None:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}
        if self.checkpoint_path is None:
            self._memory = copy.deepcopy(state)
            return
        os.makedirs(os.fspath(self.checkpoint_dir), exist_ok=True)
        partial = self.checkpoint_path + ".partial"
        self._torch.save(state, partial)
        os.replace(partial, self.checkpoint_path)

    def _load_checkpoint(self) -> dict[str, Any]:
        if self.checkpoint_path is None:
            return copy.deepcopy(self._memory)
        return self._torch.load(self.checkpoint_path, weights_only=True)
