"""``CurvebenchLightningCallback``: a PyTorch Lightning ``Callback`` that feeds a TrainingMonitor.

Needs ``lightning`` (``pip install curvebench[lightning]``). Each optimizer step becomes one
monitor step at ``trainer.global_step``: the loss returned by ``training_step``, the gradient
norm taken before Lightning clips it, the first optimizer's learning rate. The validation loss
logged as ``val_loss_key`` (default ``"val_loss"``) joins the step it was measured at; the
sanity-check validation is ignored. At the end of training the monitor is closed and its report
logged.

>>> from curvebench.monitor.callbacks.lightning import CurvebenchLightningCallback
>>> CurvebenchLightningCallback(detectors=("rules",)).val_loss_key
'val_loss'
"""

from __future__ import annotations

import logging
from typing import Any

from curvebench.monitor.callbacks.buffer import StepBuffer
from curvebench.monitor.monitor import TrainingMonitor, grad_norm_tensor

try:
    from lightning.pytorch import Callback
except ImportError as err:  # pragma: no cover - exercised only without lightning
    raise ImportError("CurvebenchLightningCallback needs lightning: pip install curvebench[lightning]") from err

logger = logging.getLogger("curvebench.monitor")


class CurvebenchLightningCallback(Callback):
    """Pass it to ``Trainer(callbacks=[...])``; the monitor is ``callback.monitor``.

    Give a ready ``monitor``, or keyword options for a new :class:`TrainingMonitor`.
    """

    def __init__(self, monitor: TrainingMonitor | None = None, val_loss_key: str = "val_loss",
                 **monitor_options: Any) -> None:
        self.monitor = monitor if monitor is not None else TrainingMonitor(**monitor_options)
        self.val_loss_key = val_loss_key
        self._buffer = StepBuffer(self.monitor)
        self._grad_norm: Any = None
        self._last_step = -1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self._grad_norm = grad_norm_tensor([p for group in optimizer.param_groups for p in group["params"]])

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step = trainer.global_step
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if step == self._last_step or loss is None:
            return
        self._last_step = step
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        self._buffer.train(step, loss=loss, grad_norm=self._grad_norm, lr=lr, batch_size=_batch_size(batch))

    def on_validation_epoch_end(self, trainer, pl_module):
        value = trainer.callback_metrics.get(self.val_loss_key)
        if trainer.sanity_checking or value is None:
            return
        self._buffer.validation(trainer.global_step, val_loss=value)

    def on_train_end(self, trainer, pl_module):
        self._buffer.close()
        self.monitor.close()
        logger.info("%s", self.monitor.report())


def _batch_size(batch: Any) -> int | None:
    first = batch[0] if isinstance(batch, (list, tuple)) and batch else batch
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape else None
