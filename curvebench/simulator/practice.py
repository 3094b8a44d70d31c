"""The practice quiz: diagnose simulated runs, then see the answer, the onset, the evidence and the fix.

:func:`play` shows each run as a terminal plot (and a PNG when given a folder), reads a
diagnosis (a label name or its number 1-5; ``q`` quits) from a text stream, reveals the truth
and keeps score. :func:`evidence` says, from the run's own numbers, what gives each mode away.

>>> import io
>>> answers = io.StringIO("overfit\\n")
>>> score = play(1, seed=3, answers=answers, out=io.StringIO(), labels=["overfit"])
>>> score.correct, score.asked
(1, 1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from curvebench.detectors.base import RECOMMENDATIONS
from curvebench.run import LABELS, Run
from curvebench.simulator.api import simulate_many
from curvebench.simulator.plots import ascii_plot, plot_run

FIXES = {
    "lr_high/nan": "Lower the learning rate (3-10x), add warmup and gradient clipping; restart from the last "
                   "finite checkpoint. Check for fp16 overflow.",
    "lr_high/collapse": "Lower the learning rate and add warmup: one huge step killed the network (dead units). "
                        "Restart; a plateau at chance after a spike is not a plateau problem.",
    "plateau/early": "Decay the learning rate (step or cosine) or raise the batch size: the run sits on its "
                     "noise floor.",
    "plateau/stuck": "Check initialization, dead or saturated activations, normalization and the data/labels "
                     "pipeline: the gradient has vanished.",
}
"""Mode-specific fixes; other modes use the label's :data:`~curvebench.detectors.base.RECOMMENDATIONS`."""


@dataclass
class Score:
    """Rounds asked, answered correctly, and the ``(truth, answer)`` of each."""

    asked: int = 0
    correct: int = 0
    history: list = field(default_factory=list)


def parse_answer(text: str) -> str | None:
    """A label from ``"2"``, ``"lr_high"`` or an unambiguous prefix (``"over"``); ``None`` if not one.

    >>> parse_answer("2"), parse_answer("over"), parse_answer("lr"), parse_answer("Plateau")
    ('lr_high', 'overfit', None, 'plateau')
    """
    text = text.strip().lower()
    if text.isdigit() and 1 <= int(text) <= len(LABELS):
        return LABELS[int(text) - 1]
    matches = [label for label in LABELS if label.startswith(text)] if text else []
    return matches[0] if len(matches) == 1 else None


def play(rounds: int, *, seed: int = 0, answers: TextIO, out: TextIO, folder: str | None = None,
         labels: list[str] | None = None) -> Score:
    """Play ``rounds`` rounds; write PNGs to ``folder`` if given. Stops at ``q`` or the end of ``answers``."""
    rng = np.random.default_rng(seed)
    chosen = list(labels) if labels else [str(x) for x in rng.choice(LABELS, size=rounds)]
    runs = simulate_many(rounds, labels=chosen, seed=seed)
    if folder:
        os.makedirs(folder, exist_ok=True)
    score = Score()
    menu = "  ".join(f"{i} {label}" for i, label in enumerate(LABELS, 1))
    for number, run in enumerate(runs, 1):
        print(f"\n=== Round {number}/{rounds} ===", file=out)
        if folder:
            path = os.path.join(folder, f"round-{number:03d}.png")
            plot_run(run, path, title=f"round {number}", hide_truth=True)
            print(f"(plot: {path})", file=out)
        print(ascii_plot(run), file=out)
        print(describe(run), file=out)
        answer = _ask(answers, out, f"Your diagnosis? {menu}  (q quits): ")
        if answer is None:
            break
        score.asked += 1
        score.correct += answer == run.label
        score.history.append((run.label, answer))
        verdict = "Right" if answer == run.label else f"No: it is {run.label}"
        print(f"{verdict} ({run.mode}).", file=out)
        if run.onset_step is not None:
            print(f"Onset: step {run.onset_step}.", file=out)
        for line in evidence(run):
            print(f"  - {line}", file=out)
        print(f"Fix: {FIXES.get(run.mode, RECOMMENDATIONS[run.label])}", file=out)
        print(f"Score so far: {score.correct}/{score.asked}", file=out)
    print(f"\nFinal score: {score.correct}/{score.asked}", file=out)
    return score


def _ask(answers: TextIO, out: TextIO, prompt: str) -> str | None:
    while True:
        print(prompt, file=out)
        line = answers.readline()
        if not line or line.strip().lower() in ("q", "quit"):
            return None
        label = parse_answer(line)
        if label is not None:
            return label
        print(f"'{line.strip()}' is not a label; answer 1-5 or a label name.", file=out)


def describe(run: Run) -> str:
    """What the player can see besides the plot: channels, gradient norm and learning rate in numbers."""
    parts = [f"{run.n_steps} logged points, steps {int(run.steps[0])}..{int(run.steps[-1])}"]
    if run.has("grad_norm"):
        g = run.channel("grad_norm").values
        g = g[np.isfinite(g)]
        if g.size:
            parts.append(f"grad_norm first {g[0]:.3g}, median {np.median(g):.3g}, last {g[-1]:.3g}")
    if run.has("lr"):
        lr = run.channel("lr").values
        parts.append(f"lr peak {np.nanmax(lr):.3g}, last {lr[-1]:.3g}")
    if not run.has("val_loss"):
        parts.append("no validation loss logged")
    return "; ".join(parts)


def evidence(run: Run) -> list[str]:
    """What gives the run's mode away, in its own numbers."""
    train = run.channel("train_loss")
    steps, values = train.steps, train.values
    finite = np.isfinite(values)
    knobs = run.meta.get("knobs", {})
    smooth = _smooth(values)
    start, end = _median(smooth[:max(3, len(smooth) // 20)]), _median(smooth[-max(3, len(smooth) // 10):])
    mode = run.mode or run.label
    if mode == "lr_high/nan":
        first = int(np.argmax(~finite))
        return [f"the loss is finite until step {steps[first - 1] if first else steps[0]} "
                f"and non-finite from step {steps[first]} on",
                f"just before, it had climbed to {values[first - 1]:.4g}" if first else "it was never finite"]
    at = _index(steps, run.onset_step)
    if mode == "lr_high/divergence":
        return [f"after step {run.onset_step} the loss climbs steadily, from {_median(smooth[at:at + 5]):.4g} "
                f"to {end:.4g}"] + _grad_trend(run, "rises with it")
    if mode == "lr_high/oscillation":
        swing_early, swing_late = _swing(values[at:at + max(5, (len(values) - at) // 4)]), _swing(values[-max(5, (len(values) - at) // 4):])
        return [f"from step {run.onset_step} the loss zig-zags step to step; the swings grow from "
                f"{swing_early:.1%} to {swing_late:.1%} of the loss"]
    if mode == "lr_high/spikes":
        return [f"repeated spikes after step {run.onset_step}, and between them the loss creeps up: "
                f"{_median(smooth[at:at + 10]):.4g} after the first, {end:.4g} at the end"]
    if mode == "lr_high/collapse":
        chance = knobs.get("chance_loss")
        return [f"a spike at step {run.onset_step}, then the loss hovers at {end:.4g}"
                + (f", near ln C = {chance:.4g}, the chance level" if chance else "")
                ] + _grad_trend(run, "drops to a small, noisy level: only the output layer still learns")
    if mode == "lr_low/slow":
        return [f"the loss fell only from {start:.4g} to {end:.4g} over the whole run, steadily, never flattening"
                ] + _grad_trend(run, "stays large: the steps are just too small")
    if mode == "overfit/memorization" and run.has("val_loss"):
        val = run.channel("val_loss")
        best = int(np.nanargmin(val.values))
        return [f"validation loss bottoms out at step {val.steps[best]} ({val.values[best]:.4g}) and ends at "
                f"{val.values[-1]:.4g} (+{val.values[-1] / val.values[best] - 1:.0%})",
                f"meanwhile the training loss keeps falling, to {end:.4g}: the gap grows"]
    if mode == "plateau/early":
        floor = knobs.get("floor_loss")
        return [f"the loss flattens at step {run.onset_step} at about {end:.4g}"
                + (f", far above the achievable {floor:.4g}" if floor is not None else "")
                + "; the learning rate stays at its peak"]
    if mode == "plateau/stuck":
        chance = knobs.get("chance_loss")
        return [f"the loss stays at about {end:.4g}" + (f", the chance level ({chance:.4g})" if chance else "")
                + " from the start"] + _grad_trend(run, "is tiny: nothing is learning")
    lines = [f"the loss falls from {start:.4g} to {end:.4g}"]
    if run.has("val_loss"):
        val = run.channel("val_loss").values
        lines.append(f"validation ends at {val[-1]:.4g}, within {abs(val[-1] / np.nanmin(val) - 1):.1%} of its best")
    extra = {"healthy/spiky": "the spikes recover fully and do not repeat on a rising trend",
             "healthy/eos": "small oscillations ride on a falling trend (edge of stability), no growth",
             "healthy/catapult": "the early bump is a catapult: the loss rises for a few steps, then drops",
             "healthy/saddle": "the flat stretch ends in a second drop: a saddle the run escaped",
             "healthy/memorizing": "training falls far below validation, but validation holds near its best: a wide "
                                   "gap is not overfitting until validation rises (10% is the recorder's rule)"}
    return lines + ([extra[mode]] if mode in extra else [])


def _smooth(values: np.ndarray, window: int = 9) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, np.nan)
    if finite.size < window:
        return finite
    pad = np.pad(finite, window // 2, mode="edge")
    return np.nanmedian(np.lib.stride_tricks.sliding_window_view(pad, window), axis=1)


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def _index(steps: np.ndarray, step: int | None) -> int:
    return int(np.searchsorted(steps, step)) if step is not None else 0


def _swing(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size < 3:
        return 0.0
    return float(np.median(np.abs(np.diff(values))) / np.median(values))


def _grad_trend(run: Run, what: str) -> list[str]:
    if not run.has("grad_norm"):
        return []
    g = run.channel("grad_norm").values
    g = g[np.isfinite(g)]
    if not g.size:
        return []
    return [f"the gradient norm {what} (first {g[0]:.3g}, last {g[-1]:.3g})"]
