"""Detectors read runs and give a :class:`Diagnosis`; find them by name with :func:`get_detector`."""

import importlib.util

from curvebench.detectors.base import RECOMMENDATIONS, Detector, Diagnosis, iter_steps
from curvebench.detectors.registry import available_detectors, get_detector, register
from curvebench.detectors.autotrainer import AutoTrainer
from curvebench.detectors.deepfd import DeepFDDetector
from curvebench.detectors.features import FeaturesDetector
from curvebench.detectors.keras import KerasDetector
from curvebench.detectors.rules import RulesDetector
from curvebench.detectors.sagemaker import SageMakerDetector
from curvebench.detectors.stats import StatsDetector
from curvebench.detectors.torch_plateau import TorchPlateauDetector
from curvebench.detectors.umlaut import UmlautDetector

register("rules", RulesDetector)
register("keras", KerasDetector)
register("torch-plateau", TorchPlateauDetector)
register("sagemaker", SageMakerDetector)
register("umlaut", UmlautDetector)
register("autotrainer", AutoTrainer)
register("stats", StatsDetector)
register("features", FeaturesDetector)
register("deepfd", DeepFDDetector)


def _installed(*packages: str) -> bool:
    """Whether every package can be found (an import hook that hides one counts as not installed)."""
    try:
        return all(importlib.util.find_spec(package) is not None for package in packages)
    except ImportError:
        return False


if _installed("sktime", "numba"):  # the minirocket detector needs the rocket extra
    from curvebench.detectors.minirocket import MiniRocketDetector

    register("minirocket", MiniRocketDetector)

if _installed("torch"):  # the deep detector needs the torch extra
    from curvebench.detectors.deep import DeepDetector

    register("deep", DeepDetector)

__all__ = [
    "RECOMMENDATIONS",
    "AutoTrainer",
    "DeepFDDetector",
    "Detector",
    "FeaturesDetector",
    "Diagnosis",
    "KerasDetector",
    "RulesDetector",
    "SageMakerDetector",
    "StatsDetector",
    "TorchPlateauDetector",
    "UmlautDetector",
    "available_detectors",
    "get_detector",
    "iter_steps",
    "register",
]
