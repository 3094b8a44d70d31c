"""``CurvebenchHFCallback``: a HuggingFace ``TrainerCallback`` that feeds a TrainingMonitor.

Needs ``transformers`` (``pip install curvebench[hf]``). Each training log (``loss``,
``grad_norm``, ``learning_rate``, every ``logging_steps``) becomes one monitor step at
``state.global_step``; an ``eval_loss`` logged at the same step joins it as ``val_loss``. At
the end of training the monitor is closed and its report logged.

>>> from curvebench.monitor.callbacks.hf import CurvebenchHFCallback
>>> callback = CurvebenchHFCallback(detectors=("rules",), on_alert=print)
>>> type(callback.monitor).__name__
'TrainingMonitor'
"""

from __future__ import annotations

import logging
from typing import Any

from curvebench.monitor.callbacks.buffer import StepBuffer
from curvebench.monitor.monitor import TrainingMonitor

try:
    from transformers import TrainerCallback
except ImportError as err:  # pragma: no cover - exercised only without transformers
    raise ImportError("CurvebenchHFCallback needs transformers: pip install curvebench[hf]") from err

logger = logging.getLogger("curvebench.monitor")


class CurvebenchHFCallback(TrainerCallback):
    """Pass it to ``Trainer(callbacks=[...])``; the monitor is ``callback.monitor``.

    Give a ready ``monitor``, or keyword options for a new :class:`TrainingMonitor`.
    """

    def __init__(self, monitor: TrainingMonitor | None = None, **monitor_options: Any) -> None:
        self.monitor = monitor if monitor is not None else TrainingMonitor(**monitor_options)
        self._buffer = StepBuffer(self.monitor)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            batch = args.per_device_train_batch_size * max(args.world_size, 1) * args.gradient_accumulation_steps
            self._buffer.train(
                state.global_step, loss=logs["loss"], grad_norm=logs.get("grad_norm"),
                lr=logs.get("learning_rate"), batch_size=batch * max(args.logging_steps, 1),
            )
        if "eval_loss" in logs:
            self._buffer.validation(state.global_step, val_loss=logs["eval_loss"])

    def on_train_end(self, args, state, control, **kwargs):
        self._buffer.close()
        self.monitor.close()
        logger.info("%s", self.monitor.report())
