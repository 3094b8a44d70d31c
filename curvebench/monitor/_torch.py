"""The one place :mod:`curvebench.monitor` imports PyTorch, lazily, with a clear message when it is missing."""

from __future__ import annotations

from types import ModuleType


def require_torch(feature: str) -> ModuleType:
    """The ``torch`` module, or an ``ImportError`` saying which feature needs it and how to install it.

    >>> require_torch("this example").__name__
    'torch'
    """
    try:
        import torch
    except ImportError as err:  # pragma: no cover - exercised only without torch
        raise ImportError(f"{feature} needs PyTorch: pip install curvebench[torch]") from err
    return torch


def is_tensor(value: object) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch when the caller never did.

    >>> import numpy as np
    >>> is_tensor(np.zeros(2))
    False
    """
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")
