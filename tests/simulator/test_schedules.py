"""Learning-rate schedules: bounded shapes that do what their names say, for any length."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.simulator.schedules import SCHEDULES, schedule_matrix


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(SCHEDULES), steps=st.integers(2, 3000), warmup=st.floats(0.0, 0.2),
       final=st.floats(0.0, 0.5))
def test_every_schedule_stays_in_0_1_and_peaks_at_1(kind, steps, warmup, final):
    shape = schedule_matrix([kind], [steps], warmup=[warmup], final=[final])[0]
    assert shape.shape == (steps,)
    assert np.all((shape >= 0) & (shape <= 1 + 1e-12))
    assert shape.max() == np.float64(1.0) or steps < 4


def test_schedules_do_what_their_names_say():
    kinds = ["constant", "step", "linear", "cosine", "onecycle", "wsd"]
    shape = schedule_matrix(kinds, [100] * 6, warmup=[0.1, 0, 0, 0, 0, 0], final=[0.0] * 6, gamma=[0.1] * 6,
                            milestone1=[0.5] * 6, milestone2=[0.75] * 6, decay=[0.3] * 6)
    constant, step, linear, cosine, onecycle, wsd = shape
    assert np.all(np.diff(constant[:10]) > 0) and np.all(constant[10:] == 1)
    assert step[49] == 1 and step[50] == np.float64(0.1) and np.isclose(step[75], 0.01)
    assert np.all(np.diff(linear) < 0) and linear[-1] == 0
    assert cosine[-1] < 1e-12 and np.isclose(cosine[50], 0.5, atol=0.02)
    assert onecycle[0] < 0.05 and onecycle.argmax() == 30
    assert np.all(wsd[:70] == 1) and wsd[-1] == 0


def test_rows_of_different_lengths_share_a_matrix():
    shape = schedule_matrix(["linear", "linear"], [10, 4], final=[0.0, 0.0])
    assert shape.shape == (2, 10)
    assert shape[1, 3] == 0 and np.all(shape[1, 4:] == shape[1, 3])
