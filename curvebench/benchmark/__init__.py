"""Score detectors on labeled suites: metrics, streaming replay, reports, regression bars, suites registry.

>>> from curvebench.benchmark import evaluate, load_suite, assert_detector_scores
"""

from curvebench.benchmark.evaluate import evaluate, evaluate_suites, format_report
from curvebench.benchmark.regression import assert_detector_scores
from curvebench.benchmark.report import write_report
from curvebench.benchmark.suites import available_suites, load_suite, register

__all__ = [
    "assert_detector_scores",
    "available_suites",
    "evaluate",
    "evaluate_suites",
    "format_report",
    "load_suite",
    "register",
    "write_report",
]
