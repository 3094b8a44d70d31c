"""``curvebench train --detector NAME``: rebuild a learned detector's parameters from its recipe.

Same seed, same bytes: the shipped ``curvebench/detectors/params/NAME.npz`` (``deep.pt`` for
``deep``) and the ``NAME.json`` beside it come from the command recorded in that ``.json``.
``--detector all`` trains every registered learned detector in turn into the folder ``--out``
and says how long each took; ``curvebench train --detector all --out curvebench/detectors/params``
rebuilds every shipped file.
"""

from __future__ import annotations

import os
import time

from curvebench.detectors import available_detectors, get_detector

SHIPPED = {"features": (6006, 600), "deepfd": (6006, 600), "minirocket": (0, 1000), "deep": (0, 1000)}
"""Seed and number of simulated runs each shipped parameter file was trained with."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a learned detector's parameters (reproducible from a seed)")
    p.add_argument("--detector", required=True,
                   help="a learned detector's name (features, deepfd, minirocket, deep), or all of them: all")
    p.add_argument("--seed", type=int, help="simulation and model seed (default: the shipped one)")
    p.add_argument("--n-simulated", type=int, help="simulated training runs (default: the shipped number)")
    p.add_argument("--family", action="append", default=[], metavar="TASK",
                   help="also train on the recorded-cpu runs of this task family (repeatable)")
    p.add_argument("--out", help="where to write the parameters and their .json (default: NAME.npz here; "
                                 "with --detector all, a folder, default: here)")
    p.set_defaults(handler=run)


def run(args) -> int:
    if args.detector == "all":
        names = [name for name in available_detectors() if _learned(get_detector(name))]
        folder = args.out or "."
        os.makedirs(folder, exist_ok=True)
        for name in names:
            _train(name, args, folder)
        return 0
    _train(args.detector, args, None)
    return 0


def _train(name: str, args, folder: str | None) -> None:
    detector = get_detector(name)
    if not _learned(detector):
        raise KeyError(f"{name!r} is not a learned detector; it has nothing to train")
    out = os.path.join(folder, name + detector.suffix) if folder is not None else args.out or name + detector.suffix
    seed, n_simulated = SHIPPED.get(name, (0, 600))
    seed = seed if args.seed is None else args.seed
    n_simulated = n_simulated if args.n_simulated is None else args.n_simulated
    started = time.perf_counter()
    detector.train(seed, n_simulated, tuple(args.family)).save(out)
    print(f"{name}: wrote {out} in {time.perf_counter() - started:.1f} s ({detector.training_recipe['training_data']})")


def _learned(detector) -> bool:
    """Whether ``detector`` can be trained and saved (a :class:`~curvebench.detectors.learned.LearnedDetector`)."""
    return callable(getattr(detector, "train", None)) and callable(getattr(detector, "save", None))
