"""Score detectors on labeled suites: metrics, streaming replay, protocols, reports, regression bars, suites.

>>> from curvebench.benchmark import evaluate, evaluate_protocol, Protocol, load_suite, assert_detector_scores
"""

from curvebench.benchmark.evaluate import evaluate, evaluate_suites, format_report
from curvebench.benchmark.protocols import PROTOCOLS, Protocol, evaluate_protocol, evaluate_suites_under
from curvebench.benchmark.regression import assert_detector_scores
from curvebench.benchmark.report import write_report
from curvebench.benchmark.suites import available_suites, load_suite, register

__all__ = [
    "PROTOCOLS",
    "Protocol",
    "assert_detector_scores",
    "available_suites",
    "evaluate",
    "evaluate_protocol",
    "evaluate_suites",
    "evaluate_suites_under",
    "format_report",
    "load_suite",
    "register",
    "write_report",
]
