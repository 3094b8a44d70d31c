"""``TrainingMonitor``: the training dashboard, one ``step()`` call per optimizer step.

It records loss, gradient norm, learning rate and throughput; raises alerts for a NaN loss, a
gradient explosion and a plateau (:mod:`~curvebench.monitor.alerts`); streams every step into
registered curvebench detectors (``"rules"`` by default) and alerts when one of them raises a
diagnosis, with its onset and recommendation; optionally watches activations through forward
hooks; draws a live plot that it also saves as PNG; and ends with a summary report. The
recorded steps come back as a curvebench :class:`~curvebench.run.Run` (:meth:`to_run`), ready
for ``curvebench.datasets.write_csv``.

Alerts go to ``on_alert`` (default: a warning on the ``curvebench.monitor`` logger) and
accumulate in :attr:`TrainingMonitor.alerts`.

>>> import math
>>> monitor = TrainingMonitor(on_alert=print)
>>> for step in range(60):
...     loss = 2.0 * math.exp(-step / 20) + 0.1 if step < 40 else float("nan")
...     _ = monitor.step(loss, grad_norm=1.0, lr=0.01)
[nan_loss] loss is nan at step 40
[diagnosis] rules: lr_high since step 40 (train_loss non-finite (nan) at step 40). Lower the learning rate ...
>>> monitor.diagnoses["rules"].label
'lr_high'
>>> [round(v, 3) for v in monitor.to_run().channel("train_loss").values[:2].tolist()]
[2.1, 2.002]
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Iterable

from curvebench.detectors import Detector, Diagnosis, get_detector
from curvebench.monitor.activations import ActivationMonitor
from curvebench.monitor.alerts import Alert, AnomalyAlarms
from curvebench.monitor.plotting import draw_training_curves
from curvebench.monitor.summary import format_report
from curvebench.run import Run

logger = logging.getLogger("curvebench.monitor")


class TrainingMonitor:
    """Watch a training loop; see the module docstring.

    Parameters
    ----------
    detectors : registered detector names (or detector instances) to stream every step into.
    grad_explosion : a gradient norm above this (or non-finite) raises ``grad_explosion``.
    plateau_patience, plateau_min_delta, smoothing : a ``plateau`` alert is ``plateau_patience``
        steps without the loss, smoothed over ``smoothing`` steps, improving by ``plateau_min_delta``.
    batch_size : examples per step, for samples/s (or pass ``batch_size`` to :meth:`step`).
    model : a torch model: its gradient norm is computed when ``step`` gets none, and its
        activation layers are watched when ``watch_activations``.
    activation_every : with ``watch_activations``, one forward pass in this many is captured by
        one-shot forward hooks (the first, then the one after every ``activation_every``-th step)
        and the activation statistics are checked every this many steps.
    live_plot : redraw a matplotlib window every ``plot_every`` steps.
    plot_path : save the plot there as PNG every ``plot_every`` steps and at :meth:`close`.
    on_alert : called with each :class:`Alert` as it is raised.
    flush_every : steps are buffered and processed (alarms, detectors, plot) this many at a time,
        so an alert can come up to ``flush_every - 1`` steps late; every step is still processed,
        under its own step number. Reading ``alerts``, ``diagnoses``, ``steps``, ``columns`` or
        any report processes the pending steps first. 1 processes each step at once.
    """

    def __init__(
        self,
        *,
        detectors: Iterable[str | Detector] = ("rules",),
        grad_explosion: float = 100.0,
        plateau_patience: int = 200,
        plateau_min_delta: float = 1e-3,
        smoothing: int = 20,
        batch_size: int | None = None,
        model: Any = None,
        watch_activations: bool = False,
        activation_every: int = 100,
        live_plot: bool = False,
        plot_path: str | None = None,
        plot_every: int = 100,
        on_alert: Callable[[Alert], Any] | None = None,
        flush_every: int = 10,
    ) -> None:
        if watch_activations and model is None:
            raise ValueError("watch_activations needs the model")
        if activation_every < 1 or plot_every < 1 or flush_every < 1:
            raise ValueError("activation_every, plot_every and flush_every must be >= 1")
        self.detectors = {d if isinstance(d, str) else d.name: _detector(d) for d in detectors}
        self.batch_size = batch_size
        self.model = model
        self.activation_every = activation_every
        self.live_plot = live_plot
        self.plot_path = plot_path
        self.plot_every = plot_every
        self.on_alert = on_alert if on_alert is not None else (lambda alert: logger.warning("%s", alert))
        self.alarms = AnomalyAlarms(
            grad_explosion=grad_explosion, plateau_patience=plateau_patience,
            plateau_min_delta=plateau_min_delta, smoothing=smoothing,
        )
        self.activations = ActivationMonitor().attach(model, one_shot=True) if watch_activations else None
        self._parameters = list(model.parameters()) if model is not None else []
        self.flush_every = flush_every
        self._alerts: list[Alert] = []
        self._diagnoses: dict[str, Diagnosis] = {}
        self._rows: list[tuple[int, dict[str, float]]] = []
        self._steps: list[int] = []
        self._columns: dict[str, list[float | None]] = {"train_loss": [], "smoothed_loss": []}
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._last_step: int | None = None
        self._seen = 0
        self._raised: set[tuple[str, str]] = set()
        self._samples = 0
        self._started: float | None = None
        self._last: float | None = None
        self._figure = None

    @property
    def last_step(self) -> int | None:
        """The step number of the latest :meth:`step` call (``None`` before the first)."""
        return self._last_step

    @property
    def alerts(self) -> list[Alert]:
        """Every alert raised so far, in order."""
        self.flush()
        return self._alerts

    @property
    def diagnoses(self) -> dict[str, Diagnosis]:
        """The latest verdict of each detector."""
        self.flush()
        return self._diagnoses

    @property
    def steps(self) -> list[int]:
        """The recorded step numbers."""
        self._sync_columns()
        return self._steps

    @property
    def columns(self) -> dict[str, list[float | None]]:
        """The recorded values per channel, step-aligned (``None`` where a channel was not logged)."""
        self._sync_columns()
        return self._columns

    def step(
        self,
        loss: Any,
        *,
        grad_norm: Any = None,
        lr: float | None = None,
        val_loss: Any = None,
        optimizer: Any = None,
        step: int | None = None,
        batch_size: int | None = None,
        **metrics: Any,
    ) -> list[Alert]:
        """Record one optimizer step; return the alerts raised by the steps processed in this call.

        ``loss``, ``grad_norm``, ``val_loss`` and extra metrics may be floats or 0-d tensors; tensors
        are read (``float``) only when the pending steps are processed, every ``flush_every`` steps,
        which keeps device syncs and per-step cost low. Without ``grad_norm`` the model's is
        computed (when the monitor has one); without ``lr``, the first parameter group's of
        ``optimizer`` is read. ``step`` defaults to the previous step + 1 (from 0); extra keyword
        metrics become channels of the run and reach the detectors too.
        """
        now = time.perf_counter()
        self._started = now if self._started is None else self._started
        self._last = now
        last = self._last_step
        step = (0 if last is None else last + 1) if step is None else int(step)
        if last is not None and step <= last:
            raise ValueError(f"steps must increase: got step {step} after {last}")
        self._last_step = step
        if grad_norm is None and self.model is not None:
            grad_norm = grad_norm_tensor(self._parameters)
        if lr is None and optimizer is not None:
            lr = optimizer.param_groups[0]["lr"]
        raw = {"train_loss": _detached(loss)}
        for name, value in (("grad_norm", grad_norm), ("lr", lr), ("val_loss", val_loss), *metrics.items()):
            if value is not None:
                raw[name] = _detached(value)
        self._samples += batch_size or self.batch_size or 0
        self._pending.append((step, raw))
        self._seen += 1
        if self.activations is not None and self._seen % self.activation_every == self.activation_every - 1:
            self.activations.rearm()
        return self.flush() if len(self._pending) >= self.flush_every else []

    def flush(self) -> list[Alert]:
        """Process the pending steps now (alarms, detectors, plot); return the alerts they raised."""
        pending, self._pending = self._pending, []
        alerts: list[Alert] = []
        for step, raw in pending:
            alerts.extend(self._process(step, {name: float(value) for name, value in raw.items()}))
        return alerts

    def _process(self, step: int, logged: dict[str, float]) -> list[Alert]:
        alerts = self.alarms.check(step, logged["train_loss"], logged.get("grad_norm"))
        self._record(step, logged)
        for name, detector in self.detectors.items():
            diagnosis = detector.update(step, **logged)
            if diagnosis is not None:
                self._diagnoses[name] = diagnosis
                alerts.extend(self._diagnosis_alert(step, name, diagnosis))
        if self.activations is not None and len(self._rows) % self.activation_every == 0:
            alerts.extend(self._activation_alerts(step))
        for alert in alerts:
            self._alerts.append(alert)
            self.on_alert(alert)
        if (self.live_plot or self.plot_path) and len(self._rows) % self.plot_every == 0:
            self._refresh_plot()
        return alerts

    def _record(self, step: int, logged: dict[str, float]) -> None:
        loss = logged["train_loss"]
        logged["smoothed_loss"] = self.alarms.smoothed if math.isfinite(loss) else loss
        self._rows.append((step, logged))

    def _sync_columns(self) -> None:
        """Turn the rows recorded since the last call into columns (rows are cheap to record, columns to read)."""
        self.flush()
        for step, logged in self._rows[len(self._steps):]:
            n = len(self._steps)
            self._steps.append(step)
            for name in logged.keys() - self._columns.keys():
                self._columns[name] = [None] * n
            for name, column in self._columns.items():
                column.append(logged.get(name))

    def _diagnosis_alert(self, step: int, detector: str, diagnosis: Diagnosis) -> list[Alert]:
        if not diagnosis.alarm or (detector, diagnosis.label) in self._raised:
            return []
        self._raised.add((detector, diagnosis.label))
        evidence = f" ({diagnosis.evidence[0]})" if diagnosis.evidence else ""
        return [Alert(step, "diagnosis", f"{detector}: {diagnosis.label} since step {diagnosis.onset_step}"
                                         f"{evidence}. {diagnosis.recommendation}")]

    def _activation_alerts(self, step: int) -> list[Alert]:
        alerts = []
        for layer, issues in self.activations.diagnose().items():
            for issue in issues:
                key = (f"activations:{layer}", issue.split(":")[0])
                if key not in self._raised:
                    self._raised.add(key)
                    alerts.append(Alert(step, "activations", f"layer {layer!r} at step {step}: {issue}"))
        return alerts

    def throughput(self) -> dict[str, float]:
        """Steps per second between the first and the last step, and samples per second when sizes were given."""
        elapsed = (self._last - self._started) if self._started is not None else 0.0
        rate = (len(self.steps) - 1) / elapsed if elapsed > 0 else math.nan
        samples = self._samples * (len(self.steps) - 1) / len(self.steps) / elapsed if elapsed > 0 else math.nan
        return {"elapsed_s": elapsed, "steps_per_s": rate, "samples_per_s": samples if self._samples else math.nan}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: loss, gradient norm, LR, throughput, alerts per kind, each detector's verdict."""
        losses = [v for v in self.columns["train_loss"] if math.isfinite(v)]
        grads = [v for v in self.columns.get("grad_norm", []) if v is not None and math.isfinite(v)]
        lrs = [v for v in self.columns.get("lr", []) if v is not None]
        best = min(range(len(losses)), key=losses.__getitem__) if losses else None
        finite_steps = [s for s, v in zip(self.steps, self.columns["train_loss"]) if math.isfinite(v)]
        counts: dict[str, int] = {}
        for alert in self.alerts:
            counts[alert.kind] = counts.get(alert.kind, 0) + 1
        return {
            "steps": len(self.steps),
            "first_loss": losses[0] if losses else None,
            "last_loss": self.columns["train_loss"][-1] if self.steps else None,
            "best_loss": losses[best] if losses else None,
            "best_step": finite_steps[best] if losses else None,
            "non_finite_losses": len(self.steps) - len(losses),
            "max_grad_norm": max(grads) if grads else None,
            "last_lr": lrs[-1] if lrs else None,
            **{k: (v if math.isfinite(v) else None) for k, v in self.throughput().items()},
            "alerts": counts,
            "diagnoses": {name: d.to_dict() for name, d in self.diagnoses.items()},
            "activations": self.activations.diagnose() if self.activations is not None else {},
        }

    def report(self) -> str:
        """The summary as readable text."""
        return format_report(self.summary(), self.alerts)

    def to_run(self, **run_fields: Any) -> Run:
        """The recorded steps as a :class:`~curvebench.run.Run` (``run_fields``: label, run_id, meta, ...)."""
        columns = {k: v for k, v in self.columns.items() if k != "smoothed_loss"}
        return Run.from_columns(self.steps, **run_fields, **columns)

    def plot(self, path: str | None = None, figure: Any = None) -> Any:
        """Draw the curves on a new (or the given) matplotlib ``Figure``; save it as PNG to ``path`` if given."""
        val = [(s, v) for s, v in zip(self.steps, self.columns.get("val_loss", [])) if v is not None]
        figure = draw_training_curves(
            figure, steps=self.steps, loss=self.columns["train_loss"], smoothed=self.columns["smoothed_loss"],
            val_steps=[s for s, _ in val], val_loss=[v for _, v in val],
            grad_norm=_filled(self.columns.get("grad_norm")), lr=_filled(self.columns.get("lr")), alerts=self.alerts,
        )
        if path is not None:
            figure.savefig(path, format="png", dpi=100)
        return figure

    def close(self) -> dict[str, Any]:
        """End of training: final plot (saved to ``plot_path``), hooks removed; returns :meth:`summary`."""
        if (self.live_plot or self.plot_path) and self.steps:
            self._refresh_plot()
        if self.activations is not None:
            self.activations.detach()
        return self.summary()

    def _refresh_plot(self) -> None:
        if self.live_plot and self._figure is None:
            import matplotlib.pyplot as plt

            self._figure = plt.figure(figsize=(8, 7), layout="constrained")
            plt.show(block=False)
        self._figure = self.plot(self.plot_path, self._figure)
        if self.live_plot:
            self._figure.canvas.draw_idle()
            self._figure.canvas.flush_events()


def grad_norm_tensor(parameters: list[Any]) -> Any:
    """The global L2 norm of the parameters' gradients as a 0-d tensor (what ``clip_grad_norm_`` returns).

    NaN without any gradient. Uses the fused ``torch._foreach_norm`` that ``clip_grad_norm_``
    itself uses (one call for all tensors) and does not sync the device.
    """
    from curvebench.monitor._torch import require_torch

    torch = require_torch("TrainingMonitor(model=...)")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return math.nan
    norms = torch._foreach_norm(grads, 2.0)
    return torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]), 2.0)


def _detached(value: Any) -> Any:
    """A tensor detached from the graph (kept for later), anything else as a Python float."""
    return value.detach() if hasattr(value, "detach") else float(value)


def _detector(spec: str | Detector) -> Detector:
    detector = get_detector(spec) if isinstance(spec, str) else spec
    return detector.reset()


def _filled(column: list[float | None] | None) -> list[float]:
    return [math.nan if v is None else v for v in column] if column else []
