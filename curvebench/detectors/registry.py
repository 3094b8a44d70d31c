"""Find detectors by name: ``get_detector("rules")``, or a user's own as ``"mypkg.module:MyDetector"``.

>>> from curvebench.detectors import get_detector
>>> get_detector("rules").name
'rules'
>>> get_detector("rulez")
Traceback (most recent call last):
...
KeyError: "no detector named 'rulez'; did you mean 'rules'?"
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable

from curvebench.detectors.base import Detector

_REGISTRY: dict[str, Callable[..., Detector]] = {}


def register(name: str, factory: Callable[..., Detector], *, overwrite: bool = False) -> None:
    """Make ``factory(**params)`` available as ``get_detector(name, **params)``."""
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"a detector named {name!r} is already registered (pass overwrite=True to replace it)")
    _REGISTRY[name] = factory


def available_detectors() -> list[str]:
    """The registered detector names, sorted."""
    return sorted(_REGISTRY)


def get_detector(name: str, **params: Any) -> Detector:
    """A fresh detector by registered name or by ``module:Class`` path."""
    if name in _REGISTRY:
        return _REGISTRY[name](**params)
    if ":" in name:
        return _load_path(name, params)
    close = difflib.get_close_matches(name, _REGISTRY, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(available_detectors())}"
    raise KeyError(f"no detector named {name!r}{hint}")


def _load_path(path: str, params: dict[str, Any]) -> Detector:
    module_name, _, attr = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise KeyError(f"cannot load detector {path!r}: {err}") from None
    detector = factory(**params)
    for method in ("diagnose", "reset", "update"):
        if not callable(getattr(detector, method, None)):
            raise KeyError(f"{path!r} is not a detector: it has no {method}() method")
    return detector
