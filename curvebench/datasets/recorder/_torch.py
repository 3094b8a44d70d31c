"""The one place the recorder imports PyTorch, with a clear message when it is missing."""

try:
    import torch
except ImportError as err:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "the curvebench recorder needs PyTorch: pip install curvebench[torch]"
    ) from err

__all__ = ["torch"]
