"""The recorder: trains real PyTorch models whose failures are caused for real, and logs every step.

:mod:`~curvebench.datasets.recorder.verify` (the verification rules) and
:mod:`~curvebench.datasets.recorder.causes` need only numpy; everything else needs the
torch extra, and importing it without torch raises an ``ImportError`` that says
``pip install curvebench[torch]``.

>>> from curvebench.datasets.recorder import verify_run, TASKS
>>> sorted(TASKS)[:2]
['charlm', 'diabetes_mlp']
"""

from curvebench.datasets.recorder.causes import TASKS, cause_variants
from curvebench.datasets.recorder.verify import Verdict, classify, verify_run

__all__ = ["TASKS", "Verdict", "cause_variants", "classify", "record", "verify_run"]


def __getattr__(name: str):
    if name == "record":
        from curvebench.datasets.recorder.record import record

        return record
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
