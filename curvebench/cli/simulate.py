"""``curvebench simulate``: write a labeled suite of simulated runs (run CSVs + labels.csv), optionally PNGs;
or, with ``--realism PATH``, report how well a classifier tells simulated runs from the real runs at PATH."""

from __future__ import annotations

import os
from collections import Counter

from curvebench.cli import UsageError
from curvebench.cli.common import parse_seeds
from curvebench.run import LABELS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="simulate labeled training runs into a suite folder")
    p.add_argument("--label", action="append", metavar="LABEL",
                   help=f"label to simulate (repeatable, or 'all'; default all): {', '.join(LABELS)}")
    p.add_argument("--mode", action="append", metavar="MODE",
                   help="a specific mode such as lr_high/nan (repeatable); sets the labels")
    p.add_argument("--n", type=int, default=10, help="number of runs (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0); the same seed gives the same runs")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per run (default: drawn per run)")
    p.add_argument("--severity", type=float, default=None, help="0 (borderline) to 1 (blatant); default drawn")
    p.add_argument("--out", metavar="DIR", help="suite folder to write")
    p.add_argument("--realism", metavar="PATH",
                   help="instead of writing runs, report the realism check (classifier two-sample ROC AUC per "
                        "label) against the real runs at PATH: a suite folder, a .parquet RunSet, a corpus name or "
                        "TaskSet files (a .json.gz file or a folder of them, labeled by the verification rules)")
    p.add_argument("--seeds", metavar="SEEDS",
                   help="with --realism: the mean over these matched-simulation seeds (START:STOP or a comma "
                        "list; one seed moves an AUC by a few hundredths); default --seed alone")
    p.add_argument("--by-mode", action="store_true",
                   help="with --realism: one row per mode instead of per label, the modes of real and simulated "
                        "runs named alike by the recorder's verification rules")
    p.add_argument("--by-family", action="store_true",
                   help="with --realism: per label, the features that tell real from simulated runs apart within "
                        "each task family (meta task) of the real runs, for one matched simulation (--seed)")
    p.add_argument("--plots", action="store_true", help="also write one PNG per run into DIR/plots")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    p.set_defaults(handler=run)


def run(args) -> int:
    from curvebench.datasets.suite import write_suite
    from curvebench.simulator import scenarios_for, simulate_many, spec
    from curvebench.simulator.plots import plot_run

    given = [flag for flag, on in (("--by-mode", args.by_mode), ("--by-family", args.by_family),
                                   ("--seeds", args.seeds)) if on]
    if args.realism:
        others = [flag for flag in given if flag != "--by-family"]
        if args.by_family and others:
            raise UsageError(f"--by-family takes one matched simulation (--seed), not {others[0]}")
        seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]
        return _realism(args.realism, seeds, args.by_mode, args.by_family)
    if given:
        raise UsageError(f"{given[0]} needs --realism PATH")
    if not args.out:
        raise UsageError("--out DIR is required (or --realism PATH)")
    if args.n < 1:
        raise UsageError(f"--n must be at least 1, got {args.n}")
    if args.severity is not None and not 0.0 <= args.severity <= 1.0:
        raise UsageError(f"--severity must be between 0 and 1, got {args.severity}")
    if args.steps is not None and args.steps < 2:
        raise UsageError(f"--steps must be at least 2, got {args.steps}")
    labels = _labels(args.label)
    modes = None
    if args.mode:
        modes = [spec(mode).mode for mode in args.mode]
        labels_of_modes = [mode.split("/")[0] for mode in modes]
        if args.label and not set(labels_of_modes) <= set(labels):
            raise UsageError(f"--mode {', '.join(modes)} does not belong to --label {', '.join(labels)}")
        labels = labels_of_modes
    else:
        for label in labels:
            scenarios_for(label)
    runs = simulate_many(args.n, labels=labels, seed=args.seed, steps=args.steps, modes=modes,
                         severity=args.severity)
    try:
        write_suite(runs, args.out, overwrite=args.overwrite)
    except FileExistsError as err:
        raise UsageError(f"{err} (use --overwrite)") from None
    if args.plots:
        folder = os.path.join(args.out, "plots")
        os.makedirs(folder, exist_ok=True)
        for one in runs:
            plot_run(one, os.path.join(folder, f"{one.run_id}.png"))
    counts = {label: runs.labels.count(label) for label in dict.fromkeys(runs.labels)}
    summary = ", ".join(f"{count} {label}" for label, count in counts.items())
    print(f"wrote {len(runs)} runs ({summary}) to {args.out}" + (" with plots" if args.plots else ""))
    return 0


def _realism(path: str, seeds: list[int], by_mode: bool, by_family: bool) -> int:
    from curvebench.cli.common import read_runs
    from curvebench.datasets.corpora import available, load
    from curvebench.run import RunSet
    from curvebench.simulator.realism import GOAL, averaged, realism_report

    if os.path.exists(path):
        real = RunSet([run for _, runs in read_runs(path, {}) for run in runs])
    elif path in available():
        real = load(path)
    else:
        raise UsageError(f"--realism expects a suite folder, a .parquet file, TaskSet .json.gz files or one of "
                         f"{', '.join(available())}")
    if by_mode:
        return _realism_by_mode(real, seeds)
    if by_family:
        return _realism_by_family(real, seeds[0])
    report = averaged([realism_report(real, seed=seed) for seed in seeds])
    if not report:
        print("no label has at least 10 labeled real runs; nothing to compare")
        return 0
    print(f"realism check (ROC AUC of a classifier telling real from simulated runs; goal <= {GOAL}){_over(seeds)}:")
    _print_rows(report)
    return 0


def _realism_by_mode(real, seeds: list[int]) -> int:
    from curvebench.datasets.recorder.verify import classify
    from curvebench.simulator.realism import GOAL, averaged, mode_report

    def name_mode(run):
        verdict = classify(run)
        return None if verdict is None else verdict.mode

    reports = [mode_report(real, name_mode, seed=seed) for seed in seeds]
    if not reports[0]["mix"]:
        print("no label has at least 10 labeled real runs; nothing to compare")
        return 0
    print(f"realism check per mode (ROC AUC of a classifier telling real from simulated runs; goal <= {GOAL})"
          f"{_over(seeds)}; each run's mode\nnamed from its numbers by the recorder's verification rules, real and "
          "simulated alike:")
    for label, mix in reports[0]["mix"].items():
        simulated = sum((report["mix"][label]["simulated"] for report in reports), Counter())
        print(f"  {label}: real {_mix(mix['real'], label)}; simulated {_mix(simulated, label)}")
    modes = averaged([report["modes"] for report in reports])
    if modes:
        _print_rows(modes)
    else:
        print("no mode has at least 10 real and 10 simulated runs; nothing to compare")
    return 0


def _realism_by_family(real, seed: int) -> int:
    from curvebench.simulator.realism import family_report

    report = family_report(real, seed=seed)
    if not report:
        print("no label has at least 10 labeled real runs; nothing to compare")
        return 0
    print("realism check within task families: per label, the single features that tell real from simulated runs\n"
          "apart best inside a family (each one's ROC AUC, the mean over families with at least 5 runs; then each\n"
          "family's AUC and real / simulated medians):")
    for label, rows in report.items():
        if not rows:
            print(f"  {label}: no task family (meta task) with at least 5 runs")
            continue
        print(f"  {label}")
        for row in rows:
            each = ", ".join(f"{family} {f['auc']:.2f} ({f['real']:.3g} / {f['simulated']:.3g})"
                             for family, f in row["families"].items())
            print(f"    {row['feature']}: {row['auc']:.2f} — {each}")
    return 0


def _over(seeds: list[int]) -> str:
    return f", mean over seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else ""


def _mix(counts, label: str) -> str:
    """``divergence 113, nan 39, another label 4, no rule 1``: a label's runs by the mode the rules name."""
    ours = sorted((mode.split("/", 1)[1], n) for mode, n in counts.items() if mode and mode.startswith(f"{label}/"))
    other = sum(n for mode, n in counts.items() if mode and not mode.startswith(f"{label}/"))
    parts = [f"{mode} {n}" for mode, n in ours]
    if other:
        parts.append(f"another label {other}")
    if counts.get(None):
        parts.append(f"no rule {counts[None]}")
    return ", ".join(parts)


def _print_rows(report: dict) -> None:
    width = max(8, *map(len, report))
    for name, row in report.items():
        mark = "ok" if row["goal_met"] else "above goal"
        across = row["auc_across_families"]
        families = (f"  across {row['families']} task families {across:.3f}" if across is not None
                    else "  (fewer than 3 task families: no cross-family AUC)")
        each = f" ({', '.join(f'{auc:.3f}' for auc in row['aucs'])})" if len(row["aucs"]) > 1 else ""
        print(f"  {name:{width}s} AUC {row['auc']:.3f}{each}  ({row['real']} real, {row['simulated']} simulated)"
              f"  {mark}{families}")
        for give in row["giveaways"]:
            print(f"  {'':{width}s} {give['feature']}: real {give['real']:.3g}, simulated {give['simulated']:.3g}"
                  f" (alone: AUC {give['auc']:.2f})")
    print("(across task families: the classifier is scored on task families it was not trained on; indented: the\n"
          " single features that tell the two apart best, each alone, with their medians)")


def _labels(given: list[str] | None) -> list[str]:
    if not given or "all" in given:
        return list(LABELS)
    return given
