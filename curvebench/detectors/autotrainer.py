"""AUTOTRAINER's published training-problem rules (Zhang et al., ICSE 2021) as a streaming detector.

AUTOTRAINER ("AUTOTRAINER: An Automatic DNN Training Problem Detection and Repair System",
ICSE 2021) checks a Keras run every few epochs and stops it at the first problem it finds. Its
rules and default thresholds come from its code, github.com/shiningrain/AUTOTRAINER:
``default_param`` in ``AutoTrainer/utils/utils.py`` and the checks in ``AutoTrainer/utils/monitor.py``
(re-written here, not copied). Each symptom maps to one of the five labels:

=================  ============================================================  ========
symptom            rule (AUTOTRAINER's default)                                  label
=================  ============================================================  ========
NaN / huge loss    a NaN or inf loss or gradient norm, or a loss >= 1e3           lr_high
                   (here ``large_loss`` = 1e3 times the first loss)
dying ReLU         share of zero gradients ``dead_frac`` >= ``gamma`` = 0.7       plateau
exploding grad     first-layer / last-layer gradient norm > ``beta_3`` = 70       lr_high
vanishing grad     that ratio < ``beta_1`` = 1e-3 and first-layer norm <          plateau
                   ``beta_2`` = 1e-4
slow convergence   no history step improves by ``delta`` = 0.01                   lr_low
unstable loss      peak-to-trough swings >= ``zeta`` = 0.03 in at least           lr_high
                   ``eta`` = 20% of the history
val turns bad      val rises while train falls, by ``epsilon`` = 0.01, for the    overfit
                   last ``overfit_steps`` history steps
=================  ============================================================  ========

At one check the first symptom in this order wins (AUTOTRAINER's order), and the verdict then
stays: AUTOTRAINER stops training at its first finding, so ``onset_step`` is that check's step.
As in AUTOTRAINER, the three gradient rules count only while training is not converging.

What had to change for curves without accuracy, at any loss scale and any logging rate:

- AUTOTRAINER measures swings and gains on accuracy (0 to 1); here they are measured on the loss,
  as a share of its median level; "not converging" (accuracy below ``Theta``) becomes the last
  ``window`` history steps each improving by less than ``delta``. Its absolute large-loss
  limit (1e3) becomes ``large_loss`` times the first loss.
- Its history holds one (train, val) entry per epoch. Here an epoch ends at each ``val_loss``
  point, its train loss the mean of the train points since the last one (a per-epoch log is
  read as is); a run without ``val_loss`` is cut into epochs of ``epoch_points`` train points.
  When the history reaches ``capacity`` entries, neighbours merge (epochs double in length), so
  it keeps between ``capacity / 2`` and ``capacity`` entries. The rules run at each epoch end.
- AUTOTRAINER computes "test turns bad" but leaves it out of its verdict; here it counts.
- Channels: per-layer gradient norms ``grad_norm/<layer>`` or ``grad_norm.<layer>`` (the first
  and last layer are those named ``*first_layer`` / ``*last_layer``, as the recorder writes them,
  else the first and last the run lists), the share of dead units ``dead_frac`` (or the
  recorder's ``dead_relu_frac``), ``grad_norm``, ``train_loss``, ``val_loss``. A rule whose
  channel is missing abstains and says so in the evidence; without per-layer norms, vanishing
  falls back on the total ``grad_norm`` < ``beta_2`` (the first layer's norm cannot exceed it)
  and exploding abstains. AUTOTRAINER's rules do not use ``lr``.

AUTOTRAINER judges a run only after 30% of its planned epochs; a stream has no planned length,
so the rules here wait for ``min_history`` epochs (5 validation points, or 50 train points
without validation); a shorter run is ``insufficient_data``, unless it already showed a NaN.

Examples
--------
>>> import numpy as np
>>> from curvebench.run import Run
>>> epochs = np.arange(1, 31)
>>> loss = 2.3 * np.exp(-epochs / 10) + 0.1
>>> loss[25:] = np.nan
>>> AutoTrainer().diagnose(Run.from_columns(epochs, train_loss=loss, val_loss=loss + 0.1)).onset_step
26
>>> flat = 2.3 - 0.001 * epochs
>>> verdict = AutoTrainer().diagnose(Run.from_columns(epochs, train_loss=flat, val_loss=flat + 0.1))
>>> verdict.label, verdict.onset_step
('lr_low', 5)
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.detectors.streaming_stats import BlockSeries
from curvebench.run import Run

_LAYER_PREFIXES = ("grad_norm/", "grad_norm.")
_DEAD_CHANNELS = ("dead_frac", "dead_relu_frac")


class AutoTrainer(Detector):
    """AUTOTRAINER's rules over train/val loss, gradient norms and ``dead_frac``; see the module."""

    name = "autotrainer"

    def __init__(
        self,
        beta_1: float = 1e-3,
        beta_2: float = 1e-4,
        beta_3: float = 70.0,
        gamma: float = 0.7,
        zeta: float = 0.03,
        eta: float = 0.2,
        delta: float = 0.01,
        epsilon: float = 0.01,
        overfit_steps: int = 3,
        large_loss: float = 1e3,
        window: int = 5,
        min_history: int = 5,
        epoch_points: int = 10,
        capacity: int = 64,
    ) -> None:
        for key, value in dict(beta_1=beta_1, beta_2=beta_2, beta_3=beta_3, zeta=zeta, delta=delta,
                               epsilon=epsilon, large_loss=large_loss).items():
            if not isinstance(value, Real) or not 0 < value < math.inf:
                raise ValueError(f"{key} must be a positive number, got {value!r}")
        for key, value in dict(gamma=gamma, eta=eta).items():
            if not isinstance(value, Real) or not 0 < value <= 1:
                raise ValueError(f"{key} must be in (0, 1], got {value!r}")
        for key, value in dict(overfit_steps=overfit_steps, window=window, min_history=min_history,
                               epoch_points=epoch_points).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        if not isinstance(capacity, int) or capacity % 2 or capacity < 2 * max(min_history, window + 1):
            raise ValueError(f"capacity must be even and >= 2 * max(min_history, window + 1), got {capacity!r}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.beta_3 = beta_3
        self.gamma = gamma
        self.zeta = zeta
        self.eta = eta
        self.delta = delta
        self.epsilon = epsilon
        self.overfit_steps = overfit_steps
        self.large_loss = large_loss
        self.window = window
        self.min_history = min_history
        self.epoch_points = epoch_points
        self.capacity = capacity
        super().__init__()

    def _reset(self) -> None:
        self._n_train = 0
        self._first_loss: float | None = None
        self._last_train: float | None = None
        self._since_val = [0.0, 0]
        self._blocks = BlockSeries(self.capacity, self.epoch_points)
        self._epochs = BlockSeries(self.capacity)
        self._layers: dict[str, float] = {}
        self._grad_norm: float | None = None
        self._dead_frac: float | None = None
        self._final: Diagnosis | None = None
        self._latest: Diagnosis | None = None

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        """Take one logged step; the verdict so far, ``None`` before ``min_history`` epochs."""
        if self._final is not None:
            return self._final
        for name, value in metrics.items():
            if name.startswith(_LAYER_PREFIXES) or name == "grad_norm":
                if not math.isfinite(value):
                    return self._raise("lr_high", step, f"{name} is {value} at step {step} (the NaN-gradient rule)")
                if name == "grad_norm":
                    self._grad_norm = value
                else:
                    self._layers[name] = value
        for name in _DEAD_CHANNELS:
            if name in metrics:
                self._dead_frac = metrics[name]
        closed = False
        loss = metrics.get("train_loss")
        if loss is not None:
            if (alarm := self._blown_up("train_loss", loss, step)) is not None:
                return alarm
            self._n_train += 1
            self._last_train = loss
            self._since_val[0] += loss
            self._since_val[1] += 1
            closed = self._blocks.push(step, [loss]) and len(self._epochs) == 0
        val = metrics.get("val_loss")
        if val is not None:
            if (alarm := self._blown_up("val_loss", val, step)) is not None:
                return alarm
            if self._last_train is not None:
                total, count = self._since_val
                train = total / count if count else self._last_train
                closed = self._epochs.push(step, [train, val])
                self._since_val = [0.0, 0]
        if closed:
            self._check(step)
        return self._final or self._latest

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The last verdict; ``insufficient_data`` when the rules never had ``min_history`` epochs."""
        if diagnosis is None:
            short = Diagnosis.insufficient(self._n_train, self.min_history)
            short.evidence = [f"only {len(self._history())} epochs; at least {self.min_history} needed "
                              f"(an epoch ends at each val_loss point, else every {self.epoch_points} train points)"]
            return short
        return diagnosis

    def _blown_up(self, name: str, value: float, step: int) -> Diagnosis | None:
        if not math.isfinite(value):
            return self._raise("lr_high", step, f"{name} is {value} at step {step} (the NaN-loss rule)")
        if self._first_loss is None:
            self._first_loss = value
        elif self._first_loss != 0 and abs(value) >= self.large_loss * abs(self._first_loss):
            return self._raise(
                "lr_high", step, f"{name} {value:.4g} at step {step} is >= {self.large_loss:g}x the first loss"
            )
        return None

    def _raise(self, label: str, step: int, finding: str) -> Diagnosis:
        self._final = Diagnosis.certain(label, onset_step=step, evidence=[finding, *self._abstentions()])
        return self._final

    def _history(self) -> BlockSeries:
        return self._epochs if len(self._epochs) else self._blocks

    def _check(self, step: int) -> None:
        history = self._history().means()[:, 0]
        if history.size < self.min_history:
            return
        level = float(np.median(np.abs(history))) or 1.0
        gains = (history[:-1] - history[1:]) / level
        stalled = float(gains[-self.window:].max()) < self.delta
        for label, finding in (
            *self._gradient_findings(stalled),
            self._slow_convergence(gains),
            self._unstable(history, level),
            self._turned_bad(),
        ):
            if finding:
                self._raise(label, step, finding)
                return
        self._latest = Diagnosis.certain(
            "healthy", evidence=["no AUTOTRAINER rule fired", *self._abstentions()]
        )

    def _gradient_findings(self, stalled: bool) -> list[tuple[str, str | None]]:
        if not stalled:
            return []
        dead = None
        if self._dead_frac is not None and self._dead_frac >= self.gamma:
            dead = f"dying ReLU: dead_frac {self._dead_frac:.3g} >= gamma {self.gamma:g} while the loss stalls"
        explode = vanish = None
        if len(self._layers) >= 2:
            names = list(self._layers)
            first = self._layers[next((n for n in names if n.endswith("first_layer")), names[0])]
            last = self._layers[next((n for n in names if n.endswith("last_layer")), names[-1])]
            ratio = first / last if last > 0 else math.inf
            if ratio > self.beta_3:
                explode = f"exploding gradient: first/last layer norm ratio {ratio:.3g} > beta_3 {self.beta_3:g}"
            elif ratio < self.beta_1 and first < self.beta_2:
                vanish = (
                    f"vanishing gradient: first/last layer norm ratio {ratio:.3g} < beta_1 {self.beta_1:g} "
                    f"and first-layer norm {first:.3g} < beta_2 {self.beta_2:g}"
                )
        elif self._grad_norm is not None and self._grad_norm < self.beta_2:
            vanish = f"vanishing gradient: grad_norm {self._grad_norm:.3g} < beta_2 {self.beta_2:g}"
        return [("plateau", dead), ("lr_high", explode), ("plateau", vanish)]

    def _slow_convergence(self, gains: np.ndarray) -> tuple[str, str | None]:
        best = float(gains.max())
        if best >= self.delta:
            return "lr_low", None
        return "lr_low", (
            f"slow convergence: the best history step improved the loss by {best:.2%} of its level "
            f"(< delta {self.delta:g})"
        )

    def _unstable(self, history: np.ndarray, level: float) -> tuple[str, str | None]:
        inner = history[1:-1]
        peaks = inner[(inner >= history[:-2]) & (inner >= history[2:])]
        troughs = inner[(inner <= history[:-2]) & (inner <= history[2:])]
        pairs = min(peaks.size, troughs.size)
        swings = int(np.sum(np.abs(peaks[:pairs] - troughs[:pairs]) >= self.zeta * level))
        if swings < self.eta * history.size:
            return "lr_high", None
        return "lr_high", (
            f"unstable loss: {swings} of {history.size} history steps swing by >= zeta "
            f"{self.zeta:g} of the loss level (>= eta {self.eta:g})"
        )

    def _turned_bad(self) -> tuple[str, str | None]:
        if len(self._epochs) <= self.overfit_steps:
            return "overfit", None
        pairs = self._epochs.means()
        level = float(np.median(np.abs(pairs[:, 1]))) or 1.0
        train_down = np.diff(pairs[:, 0]) < -self.epsilon * level
        val_up = np.diff(pairs[:, 1]) > self.epsilon * level
        tail = (train_down & val_up)[-self.overfit_steps:]
        if not tail.all():
            return "overfit", None
        return "overfit", (
            f"validation turned bad: val rose while train fell for the last {self.overfit_steps} "
            f"history steps (by > epsilon {self.epsilon:g} of the level)"
        )

    def _abstentions(self) -> list[str]:
        notes = []
        if len(self._layers) < 2:
            fallback = " (vanishing falls back on total grad_norm)" if self._grad_norm is not None else ""
            notes.append(f"fewer than two per-layer grad_norm channels: the gradient-ratio rules abstain{fallback}")
        if self._dead_frac is None:
            notes.append("no dead_frac (or dead_relu_frac) channel: the dying-ReLU rule abstains")
        if len(self._epochs) == 0:
            notes.append("no val_loss channel: the validation-turns-bad rule abstains")
        return notes
