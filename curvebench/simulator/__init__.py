"""curvebench.simulator: labeled training runs from a model of optimization, not drawn curves.

``simulate(label, steps=..., seed=...)`` gives one :class:`~curvebench.run.Run`;
``simulate_many(n, labels=..., seed=...)`` gives a :class:`~curvebench.run.RunSet`, many runs
integrated at once. Each run carries ``train_loss`` (per logged step, with minibatch noise),
``val_loss`` (at evaluation steps), ``grad_norm`` and ``lr`` (any may be missing, as in real
logs), its ``label``, ``mode``, ``onset_step``, and ``meta["knobs"]``. The model is described
in ``docs/simulator.md`` and in :mod:`curvebench.simulator.dynamics`.

>>> from curvebench.simulator import simulate, SCENARIOS
>>> run = simulate("lr_high", mode="lr_high/nan", steps=500, seed=3)
>>> run.onset_step is not None, run.meta["source"]
(True, 'simulated')
"""

from curvebench.simulator.api import child_seeds, simulate, simulate_many
from curvebench.simulator.batch import GENERATOR
from curvebench.simulator.scenarios import SCENARIOS, SEVERITY, Scenario, register, scenarios_for, spec

__all__ = ["GENERATOR", "SCENARIOS", "SEVERITY", "Scenario", "child_seeds", "register", "scenarios_for",
           "simulate", "simulate_many", "spec"]
