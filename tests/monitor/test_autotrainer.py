import math

import numpy as np
import pytest

from curvebench.monitor import AutoTrainer

torch = pytest.importorskip("torch")

LR = 20.0
STEPS = 150


def _batches(digits, steps):
    x, y = digits
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        index = torch.randint(0, 1200, (64,), generator=generator)
        yield x[index], y[index]


def _plain_run(model, digits):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    losses = []
    for inputs, targets in _batches(digits, STEPS):
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _auto_run(model, digits, **options):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    trainer = AutoTrainer(model, optimizer, torch.nn.functional.cross_entropy, **options)
    losses = [trainer.train_step(inputs, targets) for inputs, targets in _batches(digits, STEPS)]
    return trainer, losses


def test_run_that_diverges_without_it_finishes_with_it(make_mlp, digits, caplog):
    plain = _plain_run(make_mlp([64]), digits)
    assert not np.mean(plain[-10:]) < 2 * plain[0]

    trainer, losses = _auto_run(make_mlp([64]), digits)
    assert all(map(math.isfinite, losses[-20:]))
    assert np.mean(losses[-10:]) < 0.3 * losses[0]
    kinds = [i.kind for i in trainer.interventions]
    assert kinds and set(kinds) <= {"rollback", "lr_decay"} and kinds[0] == "rollback"
    assert trainer.lr < LR
    first = trainer.interventions[0]
    assert first.lr_after == pytest.approx(first.lr_before * trainer.backoff)
    assert first.restored_step == 0
    assert len([r for r in caplog.records if "AutoTrainer" in r.getMessage()]) == len(trainer.interventions)
    assert len(trainer.history) == STEPS


def test_on_disk_checkpoint_is_used_and_loads_with_weights_only(make_mlp, digits, tmp_path):
    trainer, losses = _auto_run(make_mlp([64]), digits, checkpoint_dir=tmp_path / "ckpt")
    state = torch.load(trainer.checkpoint_path, weights_only=True)
    assert set(state) == {"model", "optimizer"}
    assert np.mean(losses[-10:]) < 0.3 * losses[0]


def test_rollback_restores_the_checkpointed_weights_exactly(make_mlp, digits):
    model = make_mlp([16])
    start = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = AutoTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.functional.cross_entropy)
    x, y = digits
    bad = x[:8].clone()
    bad[0, 0] = math.nan
    assert math.isnan(trainer.train_step(bad, y[:8]))
    assert all(torch.equal(start[k], v) for k, v in model.state_dict().items())
    assert trainer.interventions[0].reason == "loss is nan" and trainer.lr == pytest.approx(0.01)


def test_gradient_explosion_skips_the_step_and_rolls_back(make_mlp, digits):
    model = make_mlp([16])
    start = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = AutoTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.functional.cross_entropy,
                          grad_explosion=1e-3)
    x, y = digits
    trainer.train_step(x[:8], y[:8])
    assert all(torch.equal(start[k], v) for k, v in model.state_dict().items())
    assert trainer.interventions[0].reason.startswith("gradient norm") and trainer.lr == pytest.approx(0.01)


def test_plateau_lowers_the_learning_rate(digits):
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 10)
    trainer = AutoTrainer(model, torch.optim.SGD(model.parameters(), lr=1e-6), torch.nn.functional.cross_entropy,
                          plateau_patience=30)
    x, y = digits
    for _ in range(100):
        trainer.train_step(x[:64], y[:64])
    decays = [i for i in trainer.interventions if i.kind == "lr_decay"]
    assert decays and decays[0].step >= 30
    assert decays[0].lr_after == pytest.approx(0.5e-6)


def test_it_is_not_the_detector_of_the_same_name():
    from curvebench.detectors import AutoTrainer as AutoTrainerDetector

    import curvebench.monitor.autotrainer as module

    assert AutoTrainer is not AutoTrainerDetector
    assert "curvebench.detectors.AutoTrainer" in module.__doc__
