"""Write a frozen simulated suite shipped with curvebench (a .parquet file and its sha256).

    python scripts/make_suites.py sim-v2

A suite's content never changes under its name, so the script refuses to overwrite a shipped file. Each
suite is made by the simulator of one release: sim-v1 and stress-v1 by curvebench 0.1.0 (commit 51efec8),
sim-v2 by 0.2.0, whose simulator was retuned against recorded runs, sim-v3 by 0.3.0 (a gradient norm that
follows the loss, first-steps bursts, mode weights from TaskSet and the recorded corpus), sim-v4 by 0.4.0
(confidence growth after memorization, NaN blow-ups that do not saturate, stuck and collapsed networks that settle
below a miscalibrated start), sim-v5 by 0.5.0 (a capped relative noise level, so an exploding loss never
falls to zero on its way to NaN; fewer rejected draws), sim-v6 by 0.6.0 (a chaotic climb to NaN, swinging by orders
of magnitude as recorded NaN runs do), sim-v7 by 0.7.0 (overfit from a 10% validation rise, the recorder's rule, and
healthy runs that memorize while validation holds within 5%); running the script today for a v1 name
would make different runs, which is why a changed simulator makes a new version. The seeds below are
reserved for these suites; learned detectors never train on them.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from curvebench.datasets.parquet import write_parquet
from curvebench.run import Channel, Run, RunSet
from curvebench.simulator import simulate_many

DATA = Path(__file__).resolve().parents[1] / "curvebench" / "datasets" / "data"
SIM_SEED, STRESS_SEED, SIM_V2_SEED, SIM_V3_SEED, SIM_V4_SEED, SIM_V5_SEED, SIM_V6_SEED, SIM_V7_SEED = (
    20261124, 20261125, 20261126, 20261127, 20261207, 20261208, 20261209, 20261210)
STRESSES = ("no_val", "no_grad_no_lr", "per_epoch", "heavy_noise", "rescaled")


def stressed(run: Run, stress: str, rng: np.random.Generator) -> Run:
    """``run`` as a harder log: channels dropped, logged per epoch, noisier, or at another scale."""
    channels = dict(run.channels)
    if stress == "no_val" and run.label != "overfit":  # overfitting cannot be seen without validation loss
        channels.pop("val_loss", None)
    elif stress == "no_grad_no_lr":
        channels.pop("grad_norm", None)
        channels.pop("lr", None)
    elif stress == "per_epoch":
        train = channels["train_loss"]
        every = max(1, len(train) // int(rng.integers(20, 60)))
        channels = {name: Channel(c.steps[every - 1 :: every], c.values[every - 1 :: every]) if name != "val_loss"
                    else c for name, c in channels.items()}
    elif stress == "heavy_noise":
        train = channels["train_loss"]
        noise = rng.lognormal(0.0, 0.12, len(train))
        channels["train_loss"] = Channel(train.steps, train.values * noise)
    elif stress == "rescaled":
        scale = 10.0 ** rng.uniform(-3, 3)
        for name in ("train_loss", "val_loss"):
            if name in channels:
                channels[name] = Channel(channels[name].steps, channels[name].values * scale)
    meta = {**run.meta, "stress": stress}
    return Run(channels, label=run.label, mode=run.mode, onset_step=run.onset_step, meta=meta, run_id=run.run_id)


def write(runs: RunSet, name: str) -> None:
    path = DATA / f"{name}.parquet"
    write_parquet(runs, path, compact=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (DATA / f"{name}.parquet.sha256").write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    print(f"{name}: {len(runs)} runs, {sum(r.n_steps for r in runs)} train points, {path.stat().st_size} bytes")


def stress_suite(seed: int) -> RunSet:
    """250 runs, each under one of :data:`STRESSES` in turn, and 50 short (80-step) runs."""
    rng = np.random.default_rng(seed)
    long_runs = simulate_many(250, seed=seed)
    short_runs = simulate_many(50, seed=seed + 1, steps=80)
    runs = [stressed(run, STRESSES[i % len(STRESSES)], rng) for i, run in enumerate(long_runs)]
    runs += [Run(r.channels, label=r.label, mode=r.mode, onset_step=r.onset_step,
                 meta={**r.meta, "stress": "short"}, run_id=f"short-{r.run_id}") for r in short_runs]
    return RunSet(runs)


SUITES = {
    "sim-v1": lambda: simulate_many(500, seed=SIM_SEED),
    "stress-v1": lambda: stress_suite(STRESS_SEED),
    "sim-v2": lambda: simulate_many(500, seed=SIM_V2_SEED),
    "sim-v3": lambda: simulate_many(500, seed=SIM_V3_SEED),
    "sim-v4": lambda: simulate_many(500, seed=SIM_V4_SEED),
    "sim-v5": lambda: simulate_many(500, seed=SIM_V5_SEED),
    "sim-v6": lambda: simulate_many(500, seed=SIM_V6_SEED),
    "sim-v7": lambda: simulate_many(500, seed=SIM_V7_SEED),
}
"""How each suite is made: 500 simulated runs (100 per label, every mode and severity), or the stress mix."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="+", choices=sorted(SUITES))
    args = parser.parse_args(argv)
    for name in args.suites:
        if (DATA / f"{name}.parquet").exists():
            parser.error(f"{name} is shipped already and a suite never changes under its name")
        write(SUITES[name](), name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
