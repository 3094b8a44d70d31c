"""The ``curvebench`` command line: thin wrappers over the Python API, one module per command.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``. Bad input
(:class:`~curvebench.errors.InputError`, unknown names) prints one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from curvebench.errors import InputError

COMMANDS = ("diagnose", "evaluate", "simulate", "practice", "record", "train")
"""Command modules under ``curvebench.cli``, in the order ``--help`` lists them."""


class UsageError(Exception):
    """A bad argument the parser could not catch; exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curvebench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"curvebench.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except InputError as err:
        print(f"curvebench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:  # an optional extra the command needs is not installed
        print(f"curvebench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (UsageError, KeyError) as err:
        message = err.args[0] if err.args else str(err)
        print(f"curvebench {args.command}: error: {message}", file=sys.stderr)
        return 2


def _version() -> str:
    from curvebench import __version__

    return f"curvebench {__version__}"
