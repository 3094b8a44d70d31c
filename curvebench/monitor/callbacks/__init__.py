"""Adapters that feed a :class:`~curvebench.monitor.TrainingMonitor` from a framework's own loop.

Import the one you need; each needs its framework (``pip install curvebench[hf]`` or
``curvebench[lightning]``):

- :mod:`curvebench.monitor.callbacks.hf`: ``CurvebenchHFCallback`` for a HuggingFace ``Trainer``;
- :mod:`curvebench.monitor.callbacks.lightning`: ``CurvebenchLightningCallback`` for a Lightning ``Trainer``.

>>> from curvebench.monitor.callbacks import StepBuffer
"""

from curvebench.monitor.callbacks.buffer import StepBuffer

__all__ = ["StepBuffer"]
