"""One attempt at many runs: knobs per mode, then large mixed-mode chunks through the model.

Knobs are drawn and causes solved per mode (:mod:`~curvebench.simulator.scenarios`,
:mod:`~curvebench.simulator.assemble`); the dynamics do not care about modes, so runs of every
mode share chunks of similar length, which is what makes the integration fast. Inside a chunk
runs are ordered by mode, so each mode's ground truth is computed on contiguous rows.

Every feature a chunk switches on is an exact no-op for runs that do not use it, so a run gives
the same bits in any chunk (the property ``tests/simulator/test_determinism.py`` checks). The next
chunk is modeled (integrated and observed, mostly in compiled kernels that release the GIL) on a
background thread while the runs of the current one are judged and built.

>>> from curvebench.simulator.api import child_seeds
>>> from curvebench.simulator.generator import spawned
>>> done = attempt(["healthy/smooth", "lr_low/slow"], spawned(0, 2), child_seeds(0, 2), [1, 1], steps=100,
...                severity=None, overrides={})
>>> [(i, run.mode, type(ok).__name__) for i, run, ok in sorted(done, key=lambda d: d[0])]
[(0, 'healthy/smooth', 'bool'), (1, 'lr_low/slow', 'bool')]
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from curvebench import __version__
from curvebench.run import Channel, Run
from curvebench.simulator import generator
from curvebench.simulator import observe as obs
from curvebench.simulator import overfit
from curvebench.simulator.assemble import EVENT_UNIFORMS, MEMORIZING, Model, assemble, schedule_of
from curvebench.simulator.dynamics import ModelParams, integrate
from curvebench.simulator.knobs import UNIFORMS_PER_RUN, Knobs
from curvebench.simulator.parallel import in_background
from curvebench.simulator.scenarios import sample_knobs
from curvebench.simulator.truth import accepted, onsets

GENERATOR = f"curvebench.simulator {__version__}"
"""The ``meta["generator"]`` of every simulated run."""
CHUNK_ELEMENTS = 1_000_000
"""Runs are integrated in chunks of about this many run-steps (memory stays a fraction of the output)."""
MIN_CHUNK_RUNS = 64


def attempt(modes, state, seeds, attempts, *, steps, severity, overrides):
    """Simulate each run once more, drawing from its row of ``state`` (:mod:`~curvebench.simulator.generator`);
    yields ``(position, run, accepted)`` in no particular order."""
    uniforms = generator.uniforms(state, UNIFORMS_PER_RUN)
    events = generator.uniforms(state, EVENT_UNIFORMS)
    modes = np.asarray(modes)
    knobs: dict[str, Knobs] = {}
    where: dict[str, np.ndarray] = {}
    for mode in dict.fromkeys(modes.tolist()):
        where[mode] = np.flatnonzero(modes == mode)
        knobs[mode] = sample_knobs(mode, uniforms[where[mode]], steps=steps, severity=severity)
        _override(knobs[mode], overrides)
    length = np.empty(len(modes), dtype=np.int64)
    for mode, rows in where.items():
        length[rows] = knobs[mode]["steps"]
    position = {mode: {int(r): i for i, r in enumerate(rows)} for mode, rows in where.items()}
    order = np.argsort(length, kind="stable")
    chunks = []
    for chunk in _chunks(length[order]):
        members = order[chunk]
        members = members[np.lexsort((modes[members], [_FEATURES.get(m, 0) for m in modes[members]]))]
        groups = []
        for mode in dict.fromkeys(modes[members].tolist()):
            rows = members[modes[members] == mode]
            local = np.array([position[mode][int(r)] for r in rows], dtype=np.int64)
            groups.append((mode, rows, knobs[mode].take(local), events[rows]))
        chunks.append(groups)
    scratch = (obs.Scratch(), obs.Scratch())  # chunks are modeled one at a time: their draws and noise levels reuse these
    ahead = in_background(_model, _assemble(chunks[0]), state, scratch)
    for i in range(len(chunks)):
        following = _assemble(chunks[i + 1]) if i + 1 < len(chunks) else None
        modeled = ahead.result()
        if following is not None:
            ahead = in_background(_model, following, state, scratch)
        yield from _judge(modeled, state, seeds, attempts)


_FEATURES = {"healthy/saddle": 1, "plateau/stuck": 1, "lr_high/spikes": 2, "lr_high/collapse": 2,
             "healthy/eos": 3, "healthy/catapult": 3, "lr_high/oscillation": 3}
"""Chunk order: plain modes, then capacity only, capacity and sharp direction, sharp direction only —
so the rows that need each feature are contiguous and the integrator works on their span alone."""


def _chunks(sorted_steps: np.ndarray):
    """Consecutive runs (sorted by length) whose padded length wastes at most half, up to ``CHUNK_ELEMENTS``."""
    start = 0
    while start < len(sorted_steps):
        stop = start + 1
        while (stop < len(sorted_steps) and sorted_steps[stop] <= 2 * sorted_steps[start]
               and ((stop - start + 1) * sorted_steps[stop] <= CHUNK_ELEMENTS or stop - start < MIN_CHUNK_RUNS)):
            stop += 1
        yield slice(start, stop)
        start = stop


def _override(knobs: Knobs, overrides: dict) -> None:
    """Set overridden knobs; a new loss scale (``n_classes`` or ``chance_loss``) carries the knobs measured
    in loss units (floor, initial excess, validation shift) along, unless those are overridden too.

    ``initial_loss`` is not a knob but sets the loss scale from the first loss: the chance level becomes
    ``initial_loss / (1 + init_excess / chance_loss)`` of the drawn knobs, so the run starts at
    ``initial_loss`` and its initial miscalibration keeps the share the scenario drew.
    """
    for name in overrides:
        if name not in knobs and name != "initial_loss":
            raise KeyError(f"unknown knob {name!r}; knobs are: {', '.join(sorted([*knobs, 'initial_loss']))}")
    if "initial_loss" in overrides and {"n_classes", "chance_loss"} & set(overrides):
        raise ValueError("initial_loss sets the loss scale: give it, or n_classes/chance_loss, not both")
    old_chance = knobs["chance_loss"].copy()
    for name, value in overrides.items():
        if name == "initial_loss":
            continue
        column = knobs[name]
        value = np.inf if value is None else value
        dtype = np.asarray(value).dtype if column.dtype.kind in "US" else column.dtype
        knobs[name] = np.full(len(column), value, dtype=dtype)
    if "n_classes" in overrides and "chance_loss" not in overrides:
        classes = knobs["n_classes"]
        knobs["chance_loss"] = np.where(classes >= 2, np.log(np.maximum(classes, 2)), old_chance)
    if "initial_loss" in overrides:
        first = float(overrides["initial_loss"])
        knobs["chance_loss"] = (first - knobs["init_excess"] if "init_excess" in overrides
                                else first / (1.0 + knobs["init_excess"] / old_chance))
        classes = np.maximum(np.round(np.exp(np.minimum(knobs["chance_loss"], 20.0))), 2).astype(np.int64)
        knobs["n_classes"] = np.where(knobs["n_classes"] > 0, classes, 0)
    scale = knobs["chance_loss"] / old_chance
    for name in ("floor_loss", "init_excess", "val_shift"):
        if name not in overrides:
            knobs[name] = knobs[name] * scale


def _assemble(groups):
    """A chunk's merged model, knobs, rows, logging plan and the span of each mode's rows."""
    spans, start = [], 0
    for mode, members, _, _ in groups:
        spans.append((mode, slice(start, start + len(members))))
        start += len(members)
    schedule = schedule_of([k for _, _, k, _ in groups])  # one matrix for the chunk; each mode assembles its rows
    model = _merge([assemble(k, mode, ev, schedule[span]) for (mode, _, k, ev), (_, span) in zip(groups, spans)],
                   schedule)
    knobs = _merge_knobs([k for _, _, k, _ in groups])
    rows = np.concatenate([r for _, r, _, _ in groups])
    return model, knobs, rows, obs.plan(knobs), spans


def _model(assembled, state, scratch):
    """A chunk's trajectory and observations: on the background thread, mostly in kernels that release the GIL,
    while the main thread assembles the next chunk and judges the previous one. The noise draws live in
    ``scratch[0]`` and the noise levels in ``scratch[1]``; both are spent here: nothing returned reads them."""
    model, knobs, rows, logging, spans = assembled
    draws = obs.noise_draws(state, rows, logging, obs.sample_path(knobs), scratch[0])
    traj = integrate(model.params, model.schedule, model.stability)
    for mode, span in spans:
        if mode in MEMORIZING:
            overfit.calibrate(traj, model, knobs, logging.val_steps, span, exact=mode.startswith("healthy"))
    seen = obs.observe(traj, model.schedule, model.lr_scale, knobs, logging, draws, scratch[1])
    return spans, rows, knobs, logging, traj, seen, draws.owed


def _judge(modeled, state, seeds, attempts):
    """Ground truth, acceptance and the runs of a modeled chunk: ``(position, run, accepted)``; the generator
    of a run that is not accepted is left where the run's draws, made in full, would leave it."""
    spans, rows, knobs, logging, traj, seen, owed = modeled
    table = _rows_of(knobs)
    last = np.array([s[-1] for s in logging.train_steps])
    kept = obs.search_shared(logging.val_steps, last, side="right").tolist()  # the evaluations a full log keeps
    rejected: list[int] = []
    for mode, span in spans:
        sub_traj, sub_seen, sub_plan = traj.runs(span), obs.runs_of(seen, span), _slice_plan(logging, span)
        sub_knobs = knobs.take(span)
        onset = onsets(mode, sub_traj, sub_seen, sub_plan, sub_knobs)
        ok = accepted(mode, sub_traj, sub_seen, sub_plan, sub_knobs, onset)
        for j in range(span.start, span.stop):
            r = int(rows[j])
            run = _build_run(mode, table[j], seeds[r], int(attempts[r]), logging.train_steps[j],
                             logging.val_steps[j], kept[j], seen, j, onset[j - span.start])
            if not ok[j - span.start]:
                rejected.append(j)
            yield r, run, bool(ok[j - span.start])
    generator.skip_normals(state, rows[rejected], owed[rejected])


def _merge(models: list[Model], schedule: np.ndarray) -> Model:
    """One model for runs of several modes (rows of ``schedule`` in order): mode columns and delta columns
    padded, kicks renumbered."""
    if len(models) == 1:
        return models[0]
    modes = max(m.params.h.shape[1] for m in models)
    mem = max(m.params.delta.shape[1] for m in models)
    values, kicks, offset = {}, [], 0
    for f in fields(ModelParams):
        if f.name == "kicks":
            continue
        parts = [getattr(m.params, f.name) for m in models]
        if f.name in ("h", "e0", "noise", "gate_share"):
            parts = [np.pad(p, ((0, 0), (0, modes - p.shape[1]))) for p in parts]
        elif f.name == "delta":
            parts = [np.pad(p, ((0, 0), (0, mem - p.shape[1]))) for p in parts]
        values[f.name] = np.concatenate(parts)
    for m in models:
        kicks += [(s, r + offset, mode, v) for s, r, mode, v in m.params.kicks]
        offset += len(m.stability)
    return Model(replace(models[0].params, **values, kicks=kicks), schedule,
                 np.concatenate([m.stability for m in models]), np.concatenate([m.lr_scale for m in models]))


def _merge_knobs(tables: list[Knobs]) -> Knobs:
    names = list(dict.fromkeys(name for table in tables for name in table))
    merged = Knobs()
    for name in names:
        parts = [t[name] if name in t else np.full(t.n_runs, np.nan) for t in tables]
        merged[name] = np.concatenate(parts)
    return merged


def _slice_plan(logging, span: slice):
    return obs.Plan(logging.train_steps[span], logging.val_steps[span])


def _rows_of(knobs: Knobs) -> list[dict]:
    """Each run's knobs as a JSON-ready dict (non-finite numbers become ``None``)."""
    names = list(knobs)
    columns = []
    for name in names:
        values = knobs[name]
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            values = np.where(np.isfinite(values), values, None)
        columns.append(values.tolist())
    return [dict(zip(names, row)) for row in zip(*columns)]


def _build_run(mode, knobs, seed, attempts, train_steps, val_steps, keep, seen, j, onset) -> Run:
    """Run ``j`` of a chunk; ``keep``: how many evaluations its log keeps if it does not stop after a NaN."""
    n = len(train_steps)
    train = seen.train[j, :n]
    stop = knobs["stop_after_nan"]
    if stop is not None and not np.isfinite(train).all():
        n = min(n, int(np.argmax(~np.isfinite(train))) + 1 + int(stop))
        train = train[:n]
        keep = int(val_steps.searchsorted(train_steps[n - 1], side="right"))
    train_steps = train_steps[:n]
    channels = {"train_loss": Channel.trusted(train_steps, train)}
    if knobs["has_val"]:
        if keep:
            channels["val_loss"] = Channel.trusted(val_steps[:keep], seen.val[j, :keep])
    if knobs["has_grad_norm"]:
        channels["grad_norm"] = Channel.trusted(train_steps, seen.grad_norm[j, :n])
    if knobs["has_lr"]:
        channels["lr"] = Channel.trusted(train_steps, seen.lr[j, :n])
    label = mode.split("/")[0]
    spawn_key = [int(k) for k in seed.spawn_key]
    key = "".join(f"-{k:05d}" for k in spawn_key)
    meta = {"source": "simulated", "seed": int(seed.entropy), "spawn_key": spawn_key,
            "scenario": mode, "attempts": attempts, "knobs": knobs, "generator": GENERATOR}
    return Run.trusted(channels, label, mode, None if onset is None or label == "healthy" else int(onset), meta,
                       f"{label}-{seed.entropy}{key}")
