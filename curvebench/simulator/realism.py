"""Realism check: can a classifier tell simulated runs from recorded ones of the same label?

A classifier two-sample test (Lopez-Paz & Oquab, 2017): describe every run by scale-free curve
features (:func:`curve_features`), train a gradient-boosted classifier to separate real from
simulated runs of one label, and report its cross-validated ROC AUC. 0.5 means the two are
indistinguishable on these features; the simulator's goal is AUC <= 0.65 for every label.

Simulated runs copy what each real run shows about its bookkeeping and task (length, logging,
channels, learning-rate schedule, loss scale, noise level; :func:`observed_knobs`), so the test
compares the shapes and dynamics the simulator is responsible for. A real corpus has few task
families, each run many times; shuffled folds let the classifier learn each family's look, so the
report also scores it on whole families held out (``auc_across_families``). :func:`mode_report` does the same
per mode, naming the modes of real and simulated runs by one rule, and :func:`family_giveaways` (per label:
:func:`family_report`) names what separates them within each family.

>>> from curvebench.run import Run
>>> real = Run.from_columns(list(range(0, 200, 2)), train_loss=list(np.linspace(2.3, 0.5, 100)), label="healthy")
>>> knobs = observed_knobs(real)
>>> knobs["steps"], knobs["log_every"], knobs["initial_loss"], knobs["has_val"]
(199, 2, 2.3, False)
>>> curve_features(real).shape == (len(FEATURES),)
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from curvebench.run import LABELS, Run, RunSet

GRID = 16
"""Points of relative time at which the normalised loss curve is sampled."""
GOAL = 0.65
"""The AUC the simulator should stay under, per label."""
RESIDUAL_SHRINK = 0.86
"""The robust scale of residuals around a 9-point rolling median (the ``log noise level`` feature) is this
fraction of white noise's own level (measured on Gaussian noise, 100 to 5,000 points: 0.85-0.87), since the
median moves with the point it is taken around; :func:`observed_knobs` divides it out."""
FEATURES = ("non-finite share", *(f"loss curve at {i}/{GRID - 1}" for i in range(GRID)), "log loss range",
            "log noise level", "upward outliers", "downward outliers", "lag-1 autocorrelation",
            "validation minimum position", "validation rise", "validation gap", "gradient-norm trend")
"""The name of each entry of :func:`curve_features`."""


def curve_features(run: Run) -> np.ndarray:
    """Scale-free features of a run: its normalised loss curve, noise statistics, validation and gradient shape."""
    train = run.channel("train_loss")
    values = train.values
    finite = np.isfinite(values)
    out = [float(np.mean(~finite))]
    ok = values[finite]
    if ok.size < 4:
        return np.array(out + [np.nan] * (GRID + 9))
    position = (train.steps[finite] - train.steps[0]) / max(train.steps[-1] - train.steps[0], 1)
    curve = np.interp(np.linspace(0, 1, GRID), position, _smooth(ok))
    low, high = np.min(curve), np.max(curve)
    out += list((curve - low) / (high - low + 1e-12))
    out.append(float(np.log(high / low)) if low > 0 else np.nan)
    residual = ok / np.maximum(_smooth(ok), 1e-12) - 1.0
    scale = 1.4826 * np.median(np.abs(residual - np.median(residual))) + 1e-12
    z = (residual - np.median(residual)) / scale
    with np.errstate(over="ignore", invalid="ignore"):  # a run climbing to 1e30 before its NaN: no correlation
        lag1 = float(np.corrcoef(residual[:-1], residual[1:])[0, 1]) if residual.std() > 0 else 0.0
    out += [float(np.log(scale)), float(np.mean(z > 4)), float(np.mean(z < -4)), lag1]
    if run.has("val_loss"):
        val = run.channel("val_loss").values
        val = val[np.isfinite(val)]
        best = int(np.argmin(val)) if val.size else 0
        out += [best / max(len(val) - 1, 1), float(np.log(val[-1] / val[best])) if val.size else np.nan,
                float(np.log(val[-1] / curve[-1])) if val.size and curve[-1] > 0 else np.nan]
    else:
        out += [np.nan] * 3
    if run.has("grad_norm"):
        grad = run.channel("grad_norm").values
        grad = grad[np.isfinite(grad) & (grad > 0)]
        out.append(float(np.log(np.median(grad[-max(1, len(grad) // 5):]) / np.median(grad[:max(1, len(grad) // 5)])))
                   if grad.size else np.nan)
    else:
        out.append(np.nan)
    return np.array(out, dtype=np.float64)


def _smooth(values: np.ndarray, window: int = 9) -> np.ndarray:
    if values.size < window:
        return values
    padded = np.pad(values, window // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


def two_sample_auc(real: RunSet, simulated: RunSet, *, folds: int = 5, seed: int = 0,
                   groups: list | None = None) -> float:
    """Cross-validated ROC AUC of a classifier telling ``real`` from ``simulated`` runs.

    With ``groups`` (one key per real run, e.g. its task family; simulated run ``i`` shares real run
    ``i``'s key) the folds hold out whole groups, so the classifier is scored on families it never saw.
    """
    return _auc(_features(real), _features(simulated), folds=folds, seed=seed, groups=groups)


def giveaways(real: RunSet, simulated: RunSet, *, top: int = 3) -> list[dict]:
    """The ``top`` single features that tell ``real`` from ``simulated`` runs best: ``{"feature", "auc",
    "real", "simulated"}`` (the feature's own ROC AUC, folded to >= 0.5, and each side's median).

    A feature missing on one side (no validation loss, say) is scored on the runs that have it.
    """
    return _giveaways(_features(real), _features(simulated), top=top)


def family_giveaways(real: RunSet, simulated: RunSet, *, top: int = 3, min_runs: int = 5) -> list[dict]:
    """The ``top`` single features that tell real from simulated runs apart *within* task families:
    ``{"feature", "auc", "families"}``, ``auc`` the mean over families of the feature's own ROC AUC (as in
    :func:`giveaways`) and ``families`` each family's ``{"auc", "real", "simulated"}``.

    Simulated run ``i`` copies real run ``i`` (:func:`matched_simulation`), so it belongs to that run's family
    (``meta["task"]``); families with fewer than ``min_runs`` runs are left out. A corpus whose families each
    look alike can be told from simulated runs drawn from one broad prior family by family while no feature
    separates them pooled: this names what does.

    >>> from curvebench.run import Run
    >>> def run(task, noise):
    ...     loss = 2.0 * np.exp(-np.linspace(0, 1, 60)) * (1 + noise * np.sin(np.arange(60) * 2.1))
    ...     return Run.from_columns(list(range(60)), train_loss=list(loss), meta={"task": task})
    >>> spread = [1 + i / 10 for i in range(6)]
    >>> real = RunSet([run("a", 0.01 * k) for k in spread] + [run("b", 0.2 * k) for k in spread])
    >>> sim = RunSet([run(task, 0.05 * k) for task in "ab" for k in spread])
    >>> within = {row["feature"]: row for row in family_giveaways(real, sim, top=len(FEATURES))}
    >>> pooled = {row["feature"]: row for row in giveaways(real, sim, top=len(FEATURES))}
    >>> noise = "log noise level"
    >>> within[noise]["auc"], sorted(within[noise]["families"]), pooled[noise]["auc"]
    (1.0, ['a', 'b'], 0.5)
    """
    if len(real) != len(simulated):
        raise ValueError(f"expected one simulated run per real run, got {len(simulated)} for {len(real)}")
    x_real, x_sim = _features(real), _features(simulated)
    families = [run.meta.get("task") for run in real]
    scored: dict[str, dict] = {}
    for family in dict.fromkeys(f for f in families if f is not None):
        ours = [i for i, f in enumerate(families) if f == family]
        if len(ours) < min_runs:
            continue
        for row in _giveaways(x_real[ours], x_sim[ours], top=len(FEATURES)):
            scored.setdefault(row["feature"], {})[family] = {k: row[k] for k in ("auc", "real", "simulated")}
    found = [{"feature": name, "auc": float(np.mean([f["auc"] for f in per.values()])), "families": per}
             for name, per in scored.items()]
    return sorted(found, key=lambda row: -row["auc"])[:top]


def _features(runs: RunSet) -> np.ndarray:
    x = np.array([curve_features(run) for run in runs]).reshape(len(runs), len(FEATURES))
    x[~np.isfinite(x)] = np.nan
    return x


def _auc(x_real: np.ndarray, x_sim: np.ndarray, *, folds: int, seed: int, groups: list | None,
         sim_groups: list | None = None) -> float:
    """``groups``: the real runs' keys; simulated run ``i`` has ``sim_groups[i]`` (by default real run ``i``'s)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
    from sklearn.metrics import roc_auc_score

    x = np.vstack([x_real, x_sim])
    informative = [j for j in range(x.shape[1]) if len(np.unique(x[np.isfinite(x[:, j]), j])) > 1]
    x = x[:, informative] if informative else np.zeros((len(x), 1))
    y = np.array([1] * len(x_real) + [0] * len(x_sim))
    model = HistGradientBoostingClassifier(max_iter=100, max_depth=3, random_state=seed)
    if groups is None:
        folds = min(folds, len(x_real), len(x_sim))
        split, keys = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed), None
    else:
        keys = list(groups) + list(groups[: len(x_sim)] if sim_groups is None else sim_groups)
        split = GroupKFold(n_splits=min(folds, len(set(keys))))
    scores = cross_val_predict(model, x, y, cv=split, groups=keys, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, scores))


def _giveaways(x_real: np.ndarray, x_sim: np.ndarray, *, top: int) -> list[dict]:
    from sklearn.metrics import roc_auc_score

    found = []
    for j, name in enumerate(FEATURES):
        a, b = x_real[:, j], x_sim[:, j]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if min(a.size, b.size) < 2 or np.ptp(np.r_[a, b]) == 0:
            continue
        auc = roc_auc_score(np.r_[np.ones(a.size), np.zeros(b.size)], np.r_[a, b])
        found.append({"feature": name, "auc": float(max(auc, 1.0 - auc)), "real": float(np.median(a)),
                      "simulated": float(np.median(b))})
    return sorted(found, key=lambda row: -row["auc"])[:top]


def matched_simulation(real: RunSet, label: str, *, seed: int = 0) -> RunSet:
    """One simulated run of ``label`` per real run, conditioned on what the real run shows about its
    bookkeeping and task (:func:`observed_knobs`)."""
    from curvebench.simulator.api import child_seeds, simulate

    return RunSet(simulate(label, seed=child, **observed_knobs(run))
                  for run, child in zip(real, child_seeds(seed, len(real))))


def observed_knobs(run: Run) -> dict:
    """Knobs a real run reveals: length, logging, evaluation interval (and whether it evaluates at the start),
    channels, its learning-rate
    schedule (:func:`observed_schedule`), its first loss (``initial_loss``: how much of it is the chance
    level and how much initial miscalibration stays the simulator's draw) and its per-step noise level. The noise level is measured as
    observed, dead units included, so the simulated run does not quiet it a second time as its units die
    (``dead_noise = 1``)."""
    train = run.channel("train_loss")
    steps, values = train.steps, train.values
    every = max(int(np.median(np.diff(steps))), 1) if steps.size > 1 else 1
    knobs = dict(steps=int(steps[-1]) + 1, log_every=every, log_reduce="last", has_val=run.has("val_loss"),
                 has_grad_norm=run.has("grad_norm"), has_lr=run.has("lr"))
    if run.has("val_loss"):
        val_steps = run.channel("val_loss").steps
        knobs["eval_every"] = max(int(np.median(np.diff(val_steps))), 1) if val_steps.size > 1 else every
        knobs["eval_at_start"] = bool(val_steps[0] < knobs["eval_every"])
    if run.has("lr"):
        knobs.update(observed_schedule(run.channel("lr").values))
    ok = values[np.isfinite(values)]
    if ok.size and ok[0] > 0:
        knobs["initial_loss"] = float(ok[0])
    if ok.size > 10:
        residual = ok / np.maximum(_smooth(ok), 1e-12) - 1.0
        measured = 1.4826 * np.median(np.abs(residual - np.median(residual)))
        knobs["loss_noise"] = float(np.clip(measured / RESIDUAL_SHRINK, 1e-4, 0.5))
        knobs["dead_noise"] = 1.0
    return knobs


def observed_schedule(lr: np.ndarray) -> dict:
    """The schedule knobs a logged learning rate shows: a warmup, then constant, two steps, or a linear or
    cosine decay to ``final`` (``{}`` when the learning rate is missing or does not fit one of those).

    >>> observed_schedule(np.r_[np.linspace(0.1, 1, 10), np.ones(90)])
    {'warmup': 0.1, 'schedule': 'constant'}
    >>> observed_schedule(0.5 * (1 + np.cos(np.pi * np.linspace(0, 1, 100))))["schedule"]
    'cosine'
    """
    lr = np.asarray(lr, dtype=np.float64)
    lr = lr[np.isfinite(lr)]
    if lr.size < 4 or lr.max() <= 0:
        return {}
    rel = lr / lr.max()
    peak = int(np.argmax(rel >= 0.999))
    knobs = {"warmup": round((peak + 1) / lr.size, 4) if rel[0] < 0.99 else 0.0}
    after = rel[peak:]
    if after.min() >= 0.99:
        return {**knobs, "schedule": "constant"}
    levels = np.unique(np.round(after, 6))
    if len(levels) == 3:
        changes = peak + np.flatnonzero(np.diff(np.round(after, 6)) != 0) + 1
        return {**knobs, "schedule": "step", "gamma": float(levels[1] / levels[2]),
                "milestone1": float(changes[0] / lr.size), "milestone2": float(changes[-1] / lr.size)}
    final = float(after[-1])
    quarter = after[len(after) // 4]
    linear, cosine = 1 - 0.25 * (1 - final), final + (1 - final) * 0.5 * (1 + np.cos(np.pi / 4))
    kind = "linear" if abs(quarter - linear) < abs(quarter - cosine) else "cosine"
    return {**knobs, "schedule": kind, "final": final}


def realism_report(real: RunSet, *, seed: int = 0, min_runs: int = 10) -> dict[str, dict]:
    """Per label with at least ``min_runs`` real runs: ``{"auc", "auc_across_families", "families", "real",
    "simulated", "goal_met", "giveaways"}`` (:func:`giveaways`: the single features that separate most).

    ``auc`` is the test above (shuffled folds: the classifier may learn the look of each task family of
    the real corpus). ``auc_across_families`` holds out whole task families (``meta["task"]``) instead: does
    what tells simulated runs apart hold on tasks the classifier never saw? It is ``None`` when fewer than
    three families have runs of the label.
    """
    return {label: _compare(ours, matched_simulation(ours, label, seed=seed), seed)
            for label, ours in _by_label(real, min_runs)}


def family_report(real: RunSet, *, seed: int = 0, min_runs: int = 10, top: int = 3) -> dict[str, list[dict]]:
    """Per label with at least ``min_runs`` real runs: :func:`family_giveaways` of its real runs and one
    matched simulation of them (``seed``)."""
    return {label: family_giveaways(ours, matched_simulation(ours, label, seed=seed), top=top)
            for label, ours in _by_label(real, min_runs)}


def mode_report(real: RunSet, name_mode: Callable[[Run], str | None], *, seed: int = 0, min_runs: int = 10,
                repeats: int = 3) -> dict:
    """The realism check per mode, with one rule naming the mode of real and simulated runs alike.

    A label's score mixes its modes; this says which mode gives the simulator away, and whether the
    simulator makes each mode as often as the real runs show it. ``name_mode(run)`` names a run's mode
    from its numbers (``None`` when no rule matches), e.g. the recorder's verification rules; the
    simulator's own mode names are not used, since they name causes, not shapes. Per label with at least
    ``min_runs`` real runs, ``repeats`` matched simulations are named (seeds ``seed * repeats`` on, so
    reports of different seeds share no simulated run). Returns ``{"modes": {mode: row of
    realism_report}, "mix": {label: {"real": Counter, "simulated": Counter}}}``. A mode's real runs are
    compared with the simulated runs named that mode that copy a real run of it (copies of other modes'
    runs would bring their bookkeeping and noise level along), when both sides have ``min_runs`` runs.
    """
    modes, mix = {}, {}
    for label, ours in _by_label(real, min_runs):
        simulated = RunSet(run for k in range(repeats)
                           for run in matched_simulation(ours, label, seed=seed * repeats + k))
        real_modes, sim_modes = [name_mode(run) for run in ours], [name_mode(run) for run in simulated]
        mix[label] = {"real": Counter(real_modes), "simulated": Counter(sim_modes)}
        twin_of = [j % len(ours) for j in range(len(simulated))]  # the real run each simulated run copies
        for mode in sorted({m for m in real_modes if m is not None and m.startswith(f"{label}/")}):
            mine = [j for j, m in enumerate(real_modes) if m == mode]
            twins = [j for j, m in enumerate(sim_modes) if m == mode and real_modes[twin_of[j]] == mode]
            if min(len(mine), len(twins)) >= min_runs:
                modes[mode] = _compare(RunSet(ours[j] for j in mine), RunSet(simulated[j] for j in twins), seed,
                                       sim_families=[ours[twin_of[j]].meta.get("task") for j in twins])
    return {"modes": modes, "mix": mix}


def _by_label(real: RunSet, min_runs: int):
    """``(label, its real runs)`` for each label with at least ``min_runs`` real runs, in label order."""
    for label in sorted(set(real.labels) & set(LABELS)):
        ours = real.filter(lambda run, label=label: run.label == label)
        if len(ours) >= min_runs:
            yield label, ours


def averaged(reports: list[dict[str, dict]]) -> dict[str, dict]:
    """Rows of several seeds' :func:`realism_report` (or ``mode_report(...)["modes"]``) as one: ``auc`` and
    ``auc_across_families`` the mean over seeds (``None`` if a seed had none), ``aucs`` each seed's; counts and
    ``giveaways`` from the first seed. A row missing from one seed's report is left out.

    >>> rows = averaged([{"lr_low": {"auc": 0.7, "auc_across_families": 0.6}},
    ...                  {"lr_low": {"auc": 0.8, "auc_across_families": None}}])
    >>> round(rows["lr_low"]["auc"], 3), rows["lr_low"]["aucs"], rows["lr_low"]["auc_across_families"]
    (0.75, [0.7, 0.8], None)
    """
    names = [name for name in reports[0] if all(name in report for report in reports)]
    rows = {}
    for name in names:
        aucs = [report[name]["auc"] for report in reports]
        across = [report[name]["auc_across_families"] for report in reports]
        rows[name] = {**reports[0][name], "auc": float(np.mean(aucs)), "aucs": aucs,
                      "auc_across_families": None if None in across else float(np.mean(across)),
                      "goal_met": float(np.mean(aucs)) <= GOAL}
    return rows


def _compare(real: RunSet, simulated: RunSet, seed: int, sim_families: list | None = None) -> dict:
    """A row of :func:`realism_report`; ``sim_families``: the family of the real run each simulated run copies
    (by default real run ``i``'s, for simulated run ``i``)."""
    x_real, x_sim = _features(real), _features(simulated)
    auc = _auc(x_real, x_sim, folds=5, seed=seed, groups=None)
    families = [run.meta.get("task") for run in real]
    grouped = (_auc(x_real, x_sim, folds=5, seed=seed, groups=families, sim_groups=sim_families)
               if None not in families and len(set(families)) >= 3 else None)
    return {"auc": auc, "auc_across_families": grouped, "families": len(set(families) - {None}),
            "real": len(real), "simulated": len(simulated), "goal_met": auc <= GOAL,
            "giveaways": _giveaways(x_real, x_sim, top=3)}
