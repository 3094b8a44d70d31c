"""The battery every registered detector must pass: a detector added to the registry is checked here."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvebench.detectors import available_detectors, get_detector
from curvebench.detectors.base import iter_steps
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run

DETECTORS = available_detectors()

_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from([0.0, 1.0, 1e300, -1e300, 1e-300]),
)


@st.composite
def runs(draw) -> Run:
    """Random and adversarial runs: any values, gaps, missing channels, 1 to 60 points."""
    n = draw(st.integers(1, 60))
    gaps = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    steps = np.cumsum(gaps) - gaps[0]
    kind = draw(st.sampled_from(["random", "constant", "scaled"]))
    if kind == "random":
        train = draw(st.lists(_VALUES, min_size=n, max_size=n))
    elif kind == "constant":
        train = [draw(_VALUES)] * n
    else:
        scale = draw(st.sampled_from([1e-12, 1.0, 1e12]))
        train = list(scale * (2.0 + np.cos(np.arange(n))))
    columns = {"train_loss": train}
    for name in ("val_loss", "lr", "grad_norm"):
        if draw(st.booleans()):
            every = draw(st.integers(1, 5))
            columns[name] = [draw(_VALUES) if k % every == every - 1 else None for k in range(n)]
    return Run.from_columns(steps, **columns)


def valid(diagnosis) -> bool:
    probs = diagnosis.probabilities
    return (
        diagnosis.label in (*LABELS, INSUFFICIENT_DATA)
        and set(probs) == set(LABELS)
        and all(math.isfinite(p) and p >= 0 for p in probs.values())
        and math.isclose(sum(probs.values()), 1.0)
    )


@pytest.mark.parametrize("name", DETECTORS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=runs())
def test_any_run_gives_a_valid_verdict_equal_to_the_streamed_one(name, run):
    detector = get_detector(name)
    verdict = detector.diagnose(run)
    assert valid(verdict)
    detector.reset()
    last = None
    for step, metrics in iter_steps(run):
        last = detector.update(step, **metrics) or last
    if last is None:  # nothing to say while streaming: offline it must not guess either
        assert verdict.label == INSUFFICIENT_DATA
    else:
        assert last.to_dict() == verdict.to_dict()


@pytest.mark.parametrize("name", DETECTORS)
def test_an_empty_or_one_point_run_is_insufficient(name):
    for run in (Run.from_columns([], train_loss=[]), Run.from_columns([0], train_loss=[2.3])):
        assert get_detector(name).diagnose(run).label == INSUFFICIENT_DATA


@pytest.mark.parametrize("name", DETECTORS)
def test_same_run_twice_gives_the_same_verdict(name):
    rng = np.random.default_rng(7)
    loss = 2.0 * np.exp(-np.arange(500) / 100) + 0.1 * rng.random(500)
    val = [v if k % 50 == 49 else None for k, v in enumerate(loss + 0.2)]
    run = Run.from_columns(np.arange(500), train_loss=loss, val_loss=val)
    detector = get_detector(name)
    assert detector.diagnose(run).to_dict() == detector.diagnose(run).to_dict()


@pytest.mark.parametrize("name", DETECTORS)
def test_a_long_run_streams_without_error(name):
    n = 100_000
    loss = 2.0 * np.exp(-np.arange(n) / 20_000) + 0.3
    val = [v if k % 1000 == 999 else None for k, v in enumerate(loss + 0.05)]
    verdict = get_detector(name).diagnose(Run.from_columns(np.arange(n), train_loss=loss, val_loss=val))
    assert valid(verdict)
