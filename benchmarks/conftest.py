"""Shared pieces of the pytest-benchmark benchmarks."""

import pytest


def _stream_through(detector, stream):
    """A function that resets ``detector`` and feeds it every ``(step, metrics)`` of ``stream``; returns the last verdict."""

    def replay():
        detector.reset()
        last = None
        for step, metrics in stream:
            last = detector.update(step, **metrics) or last
        return last

    return replay


@pytest.fixture
def stream_through():
    """:func:`_stream_through`: the streaming loop whose cost the per-update benchmarks measure."""
    return _stream_through
