"""Detectors read runs and give a :class:`Diagnosis`; find them by name with :func:`get_detector`."""

import importlib.util

from curvebench.detectors.base import RECOMMENDATIONS, Detector, Diagnosis, iter_steps
from curvebench.detectors.registry import available_detectors, get_detector, register
from curvebench.detectors.autotrainer import AutoTrainer
from curvebench.detectors.deepfd import DeepFDDetector
from curvebench.detectors.features import FeaturesDetector
from curvebench.detectors.keras import KerasDetector
from curvebench.detectors.minirocket import MiniRocketDetector
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
register("minirocket", MiniRocketDetector)


def _has_torch() -> bool:
    """Whether torch can be found (an import hook that hides it counts as no torch)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:
        return False


if _has_torch():  # the deep detector needs the torch extra
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
    "MiniRocketDetector",
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
