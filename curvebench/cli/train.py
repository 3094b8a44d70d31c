"""``curvebench train --detector NAME``: rebuild a learned detector's parameters from its recipe.

Same seed, same bytes: the shipped ``curvebench/detectors/params/NAME.npz`` (+ ``.json``) come
from the command recorded in that ``.json``. Sequence detectors (``minirocket``, ``deep``) are
trained by their module's ``train_params(seed, n_runs)`` and written by its ``save_params``.
"""

from __future__ import annotations

import sys

from curvebench.cli import UsageError
from curvebench.detectors import get_detector
from curvebench.detectors.learned import LearnedDetector, train_params

SHIPPED = {"features": (6006, 600), "deepfd": (6006, 600), "minirocket": (0, 1000), "deep": (0, 1000)}
"""Seed and number of simulated runs each shipped parameter file was trained with."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a learned detector's parameters (reproducible from a seed)")
    p.add_argument("--detector", required=True, help="a learned detector's name (features, deepfd, minirocket, deep)")
    p.add_argument("--seed", type=int, help="simulation and model seed (default: the shipped one)")
    p.add_argument("--n-simulated", type=int, help="simulated training runs (default: the shipped number)")
    p.add_argument("--family", action="append", default=[], metavar="TASK",
                   help="also train on the recorded-cpu runs of this task family (repeatable)")
    p.add_argument("--out", help="where to write NAME.npz and its .json (default: NAME.npz here)")
    p.set_defaults(handler=run)


def run(args) -> int:
    detector = get_detector(args.detector)
    seed, n_simulated = SHIPPED.get(args.detector, (0, 600))
    seed = seed if args.seed is None else args.seed
    n_simulated = n_simulated if args.n_simulated is None else args.n_simulated
    if isinstance(detector, LearnedDetector):
        model = train_params(detector, seed, n_simulated, tuple(args.family))
        out = args.out or f"{args.detector}.npz"
        model.save(out)
        print(f"wrote {out} ({model.meta['training_data']})")
        return 0
    module = sys.modules[type(detector).__module__]
    if not hasattr(module, "train_params"):
        raise KeyError(f"{args.detector!r} is not a learned detector; it has nothing to train")
    if args.family:
        raise UsageError(f"--family is not supported for {args.detector!r}: it trains on simulated runs only")
    out = args.out or module.PARAMS.name
    module.save_params(module.train_params(seed=seed, n_runs=n_simulated), out)
    print(f"wrote {out} (simulate_many({n_simulated}, seed={seed}))")
    return 0
