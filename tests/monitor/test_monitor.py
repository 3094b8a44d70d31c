import math
import subprocess
import sys

import numpy as np
import pytest

from curvebench.datasets import read_csv, write_csv
from curvebench.detectors import RulesDetector
from curvebench.monitor import Alert, TrainingMonitor


def _feed(monitor, losses, **per_step):
    for k, loss in enumerate(losses):
        monitor.step(loss, **{name: values[k] for name, values in per_step.items()})
    return monitor


def _decaying(n, seed=0):
    rng = np.random.default_rng(seed)
    return (0.3 + 2.0 * np.exp(-np.arange(n) / 60) * rng.lognormal(0, 0.02, n)).tolist()


def test_nan_and_explosion_alert_once_per_episode_and_again_after_recovery():
    seen = []
    monitor = TrainingMonitor(detectors=(), on_alert=seen.append, flush_every=1)
    losses = [1.0, math.nan, math.nan, 1.0, math.inf]
    grads = [1.0, 500.0, 600.0, 1.0, 200.0]
    returned = [monitor.step(loss, grad_norm=grad) for loss, grad in zip(losses, grads)]
    assert [(a.step, a.kind) for a in seen] == [
        (1, "nan_loss"), (1, "grad_explosion"), (4, "nan_loss"), (4, "grad_explosion")
    ]
    assert [len(r) for r in returned] == [0, 2, 0, 0, 2]
    assert seen == monitor.alerts and all(isinstance(a, Alert) for a in seen)


def test_buffered_steps_are_processed_every_flush_every_steps_under_their_own_numbers():
    seen = []
    monitor = TrainingMonitor(detectors=(), on_alert=seen.append, flush_every=4)
    returned = [monitor.step(loss) for loss in [1.0, math.nan, 1.0, 1.0, 1.0, math.nan]]
    assert [len(r) for r in returned] == [0, 0, 0, 1, 0, 0]
    assert [(a.step, a.kind) for a in seen] == [(1, "nan_loss")]
    assert [(a.step, a.kind) for a in monitor.alerts] == [(1, "nan_loss"), (5, "nan_loss")]
    assert monitor.steps == [0, 1, 2, 3, 4, 5]


def test_plateau_alert_after_patience_steps_without_improvement():
    monitor = TrainingMonitor(detectors=(), plateau_patience=50, on_alert=lambda a: None)
    _feed(monitor, _decaying(150) + [0.3] * 200)
    plateaus = [a for a in monitor.alerts if a.kind == "plateau"]
    assert len(plateaus) == 1
    assert 200 <= plateaus[0].step <= 350
    assert "no improvement for 50 steps" in plateaus[0].message


def test_streams_into_several_detectors_by_name_or_instance_and_agrees_with_offline():
    monitor = TrainingMonitor(detectors=("rules", "keras", RulesDetector(min_window=10, min_points=20)),
                              on_alert=lambda a: None)
    losses = _decaying(300)
    _feed(monitor, losses, lr=[0.1] * 300)
    assert set(monitor.diagnoses) == {"rules", "keras"}
    offline = RulesDetector(min_window=10, min_points=20).diagnose(monitor.to_run())
    assert monitor.diagnoses["rules"] == offline


def test_to_run_round_trips_through_csv(tmp_path):
    monitor = TrainingMonitor(on_alert=lambda a: None)
    losses = _decaying(30)
    _feed(monitor, losses, grad_norm=[1.0] * 30, val_loss=[None if k % 10 else 2.0 for k in range(30)])
    run = monitor.to_run(label="healthy", run_id="demo")
    assert sorted(run.channels) == ["grad_norm", "train_loss", "val_loss"]
    assert run.channel("val_loss").steps.tolist() == [0, 10, 20]
    write_csv(run, tmp_path / "run.csv")
    again = read_csv(tmp_path / "run.csv")
    assert again.channels == run.channels


def test_steps_must_increase_and_explicit_steps_are_kept():
    monitor = TrainingMonitor(detectors=())
    monitor.step(1.0, step=10)
    monitor.step(0.9, step=20)
    assert monitor.steps == [10, 20]
    with pytest.raises(ValueError, match="steps must increase"):
        monitor.step(0.8, step=20)


def test_throughput_counts_samples_when_batch_size_is_given():
    monitor = _feed(TrainingMonitor(detectors=(), batch_size=32), [1.0] * 20)
    rates = monitor.throughput()
    assert rates["steps_per_s"] > 0
    assert rates["samples_per_s"] == pytest.approx(32 * rates["steps_per_s"])
    assert math.isnan(_feed(TrainingMonitor(detectors=()), [1.0] * 5).throughput()["samples_per_s"])


def test_summary_and_report_name_the_diagnosis_and_its_recommendation():
    monitor = TrainingMonitor(on_alert=lambda a: None)
    _feed(monitor, _decaying(80) + [math.nan] * 5, grad_norm=[1.0] * 85, lr=[0.01] * 85)
    summary = monitor.close()
    assert summary["steps"] == 85 and summary["non_finite_losses"] == 5
    assert summary["diagnoses"]["rules"]["label"] == "lr_high"
    assert summary["alerts"]["nan_loss"] == 1
    report = monitor.report()
    assert "rules: lr_high since step 80" in report
    assert "recommendation: Lower the learning rate" in report


def test_plot_saves_a_png_and_live_plot_redraws(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = tmp_path / "curves.png"
    monitor = TrainingMonitor(live_plot=True, plot_path=str(path), plot_every=25, on_alert=lambda a: None)
    _feed(monitor, _decaying(60), grad_norm=[1.0] * 60, lr=[0.1] * 60,
          val_loss=[2.0 if k % 10 == 9 else None for k in range(60)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure = monitor._figure
    monitor.close()
    assert monitor._figure is figure and len(figure.axes) == 3
    assert len(figure.axes[0].lines[0].get_xdata()) == 60


def test_numpy_parts_import_and_work_without_torch():
    code = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (hidden by the test)")

sys.meta_path.insert(0, NoTorch())
import numpy as np
import curvebench.monitor as m
monitor = m.TrainingMonitor(on_alert=lambda a: None)
for k in range(30):
    monitor.step(1.0 / (k + 1), grad_norm=1.0, lr=0.1)
print(monitor.diagnoses["rules"].label, m.clip_gradients([np.ones(4)], 1.0)[1])
m.ActivationMonitor().record("a", np.ones((2, 2)))
m.check_initialization([np.ones((2, 2))])
try:
    m.ActivationMonitor().attach(object())
except ImportError as err:
    print(err)
assert "torch" not in sys.modules
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].endswith(" 2.0")
    assert "pip install curvebench[torch]" in out.splitlines()[1]
