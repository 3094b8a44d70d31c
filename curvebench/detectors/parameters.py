"""Checks for detector parameters: a bad value raises ``ValueError`` naming the parameter and what it must be.

>>> require("patience", -1, is_int(-1) and -1 >= 0, "an int >= 0")
Traceback (most recent call last):
...
ValueError: patience must be an int >= 0, got -1
>>> is_real(0.5), is_real(True), is_real(float("nan")), is_int(3), is_int(3.0)
(True, False, False, True, False)
"""

from __future__ import annotations

import math


def is_int(value: object) -> bool:
    """Whether ``value`` is an int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number: an int or float, not a bool, not NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def require(name: str, value: object, ok: bool, expected: str) -> None:
    """Raise ``ValueError("<name> must be <expected>, got <value>")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
