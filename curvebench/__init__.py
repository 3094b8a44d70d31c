"""curvebench: simulate, record and diagnose broken neural-network training curves.

>>> from curvebench import Run, RunSet, LABELS
>>> LABELS
('healthy', 'lr_high', 'lr_low', 'overfit', 'plateau')
"""

from curvebench.errors import InputError
from curvebench.run import CORE_CHANNELS, INSUFFICIENT_DATA, LABELS, UNKNOWN, Channel, Run, RunSet

__all__ = ["CORE_CHANNELS", "INSUFFICIENT_DATA", "LABELS", "UNKNOWN", "Channel", "InputError", "Run", "RunSet"]
__version__ = "0.7.3"
