"""``curvebench train --detector NAME``: rebuild a learned detector's parameters from its recipe.

Same seed, same bytes: the shipped ``curvebench/detectors/params/NAME.npz`` (+ ``.json``) come
from the command recorded in that ``.json``.
"""

from __future__ import annotations

from curvebench.detectors import get_detector
from curvebench.detectors.learned import LearnedDetector, train_params


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a learned detector's parameters (reproducible from a seed)")
    p.add_argument("--detector", required=True, help="a learned detector's name (features, deepfd)")
    p.add_argument("--seed", type=int, default=6006, help="simulation and model seed (default: 6006, the shipped one)")
    p.add_argument("--n-simulated", type=int, default=600, help="simulated training runs (default: 600)")
    p.add_argument("--family", action="append", default=[], metavar="TASK",
                   help="also train on the recorded-cpu runs of this task family (repeatable)")
    p.add_argument("--out", help="where to write NAME.npz and its .json (default: NAME.npz here)")
    p.set_defaults(handler=run)


def run(args) -> int:
    detector = get_detector(args.detector)
    if not isinstance(detector, LearnedDetector):
        raise KeyError(f"{args.detector!r} is not a learned detector; it has nothing to train")
    model = train_params(detector, args.seed, args.n_simulated, tuple(args.family))
    out = args.out or f"{args.detector}.npz"
    model.save(out)
    print(f"wrote {out} ({model.meta['training_data']})")
    return 0
