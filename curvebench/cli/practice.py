"""``curvebench practice``: a terminal quiz on simulated runs, driven from standard input."""

from __future__ import annotations

import sys

from curvebench.cli import UsageError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("practice", help="quiz: diagnose simulated runs, see the answer and the fix")
    p.add_argument("--n", type=int, default=5, help="rounds (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--out", metavar="DIR", default=None, help="also write each round's plot as a PNG here")
    p.set_defaults(handler=run)


def run(args) -> int:
    from curvebench.simulator.practice import play

    if args.n < 1:
        raise UsageError(f"--n must be at least 1, got {args.n}")
    play(args.n, seed=args.seed, answers=sys.stdin, out=sys.stdout, folder=args.out)
    return 0
