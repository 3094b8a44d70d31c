"""Live training diagnostics: put these in your training loop.

Everything here but the PyTorch-specific parts needs only numpy: :class:`TrainingHistory`,
:func:`clip_gradients` on arrays, :class:`ActivationMonitor` fed arrays and
:func:`check_initialization` on a list of weight arrays. Passing a model, tensors or an
optimizer needs the torch extra (``pip install curvebench[torch]``).

:class:`AutoTrainer` here *repairs* a live run (rollback, lower LR); the detector
:class:`curvebench.detectors.AutoTrainer` only *names* the problems of a logged run.

>>> from curvebench.monitor import TrainingHistory
>>> len(TrainingHistory().record(1.0))
1
"""

from curvebench.monitor.activations import ActivationMonitor, ActivationStats
from curvebench.monitor.alerts import Alert
from curvebench.monitor.autotrainer import AutoTrainer, Intervention
from curvebench.monitor.clipping import clip_gradients
from curvebench.monitor.history import TrainingHistory
from curvebench.monitor.initialization import check_initialization
from curvebench.monitor.lr_finder import LRFinder, LRFinderResult, lr_range_test
from curvebench.monitor.monitor import TrainingMonitor

__all__ = [
    "ActivationMonitor",
    "ActivationStats",
    "Alert",
    "AutoTrainer",
    "Intervention",
    "LRFinder",
    "LRFinderResult",
    "TrainingHistory",
    "TrainingMonitor",
    "check_initialization",
    "clip_gradients",
    "lr_range_test",
]
