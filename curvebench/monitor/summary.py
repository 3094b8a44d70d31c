"""The end-of-training report: :meth:`TrainingMonitor.summary` as readable text.

>>> print(format_report({"steps": 3, "first_loss": 2.0, "last_loss": 1.0, "best_loss": 1.0, "best_step": 2,
...     "non_finite_losses": 0, "max_grad_norm": 1.5, "last_lr": 0.1, "steps_per_s": 50.0, "samples_per_s": None,
...     "alerts": {}, "diagnoses": {}, "activations": {}}, []))
Training summary: 3 steps, 50.0 steps/s
  loss: first 2, last 1, best 1 at step 2
  max gradient norm 1.5, last learning rate 0.1
  alerts: none
"""

from __future__ import annotations

from typing import Any, Sequence


def format_report(summary: dict[str, Any], alerts: Sequence[Any], max_alerts: int = 10) -> str:
    """Format a summary dict and the alert list (at most ``max_alerts`` shown) as a text report."""
    speed = f", {summary['steps_per_s']:.1f} steps/s" if summary.get("steps_per_s") else ""
    if summary.get("samples_per_s"):
        speed += f", {summary['samples_per_s']:.0f} samples/s"
    lines = [f"Training summary: {summary['steps']} steps{speed}"]
    if summary["first_loss"] is not None:
        lines.append(
            f"  loss: first {summary['first_loss']:.4g}, last {summary['last_loss']:.4g}, "
            f"best {summary['best_loss']:.4g} at step {summary['best_step']}"
        )
    if summary["non_finite_losses"]:
        lines.append(f"  non-finite losses: {summary['non_finite_losses']}")
    if summary["max_grad_norm"] is not None or summary["last_lr"] is not None:
        grad = "n/a" if summary["max_grad_norm"] is None else f"{summary['max_grad_norm']:.3g}"
        lr = "n/a" if summary["last_lr"] is None else f"{summary['last_lr']:.3g}"
        lines.append(f"  max gradient norm {grad}, last learning rate {lr}")
    counts = ", ".join(f"{kind} x{n}" for kind, n in summary["alerts"].items()) or "none"
    lines.append(f"  alerts: {counts}")
    lines.extend(f"    {alert}" for alert in alerts[:max_alerts])
    if len(alerts) > max_alerts:
        lines.append(f"    ... and {len(alerts) - max_alerts} more")
    for name, d in summary["diagnoses"].items():
        onset = "" if d["onset_step"] is None else f" since step {d['onset_step']}"
        lines.append(f"  {name}: {d['label']}{onset}")
        lines.extend(f"    - {e}" for e in d["evidence"][:3])
        lines.append(f"    recommendation: {d['recommendation']}")
    for layer, issues in summary["activations"].items():
        lines.append(f"  layer {layer}: {'; '.join(issues)}")
    return "\n".join(lines)
