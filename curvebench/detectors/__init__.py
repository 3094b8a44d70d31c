"""Detectors read runs and give a :class:`Diagnosis`; find them by name with :func:`get_detector`."""

from curvebench.detectors.base import RECOMMENDATIONS, Detector, Diagnosis, iter_steps
from curvebench.detectors.registry import available_detectors, get_detector, register
from curvebench.detectors.rules import RulesDetector

register("rules", RulesDetector)

__all__ = [
    "RECOMMENDATIONS",
    "Detector",
    "Diagnosis",
    "RulesDetector",
    "available_detectors",
    "get_detector",
    "iter_steps",
    "register",
]
