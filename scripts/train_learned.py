"""Retrain the shipped parameters of the ``minirocket`` and ``deep`` detectors.

Run from the repository root (a few minutes each on one CPU thread)::

    python scripts/train_learned.py minirocket deep --seed 0

Each detector's ``train_params(seed)`` simulates ``simulate_many(1000, seed=seed)`` and fits on
its prefixes; the same seed gives the same arrays bit for bit. Writes
``curvebench/detectors/params/minirocket.npz`` and ``curvebench/detectors/params/deep.pt``.
"""

from __future__ import annotations

import argparse
import os
import time

from curvebench.detectors import deep, minirocket

MODULES = {"minirocket": minirocket, "deep": deep}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detectors", nargs="+", choices=sorted(MODULES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-runs", type=int, default=1000)
    args = parser.parse_args(argv)
    for name in args.detectors:
        module = MODULES[name]
        started = time.time()
        params = module.train_params(seed=args.seed, n_runs=args.n_runs)
        os.makedirs(os.path.dirname(module.PARAMS), exist_ok=True)
        module.save_params(params, module.PARAMS)
        print(f"{name}: wrote {module.PARAMS} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
