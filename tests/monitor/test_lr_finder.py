import math

import numpy as np
import pytest

from curvebench.monitor import LRFinder, TrainingMonitor, lr_range_test


def test_sweep_is_exponential_and_stops_on_explosion():
    calls = []

    def train_fn(lr):
        calls.append(lr)
        return 1.0 if lr < 1e-2 else math.nan

    result = LRFinder(1e-4, 1.0, steps=5).run(train_fn)
    assert calls == pytest.approx([1e-4, 1e-3, 1e-2])
    assert result.diverged and len(result.lrs) == 3 and math.isnan(result.losses[-1])


def test_stops_when_smoothed_loss_exceeds_diverge_factor_times_its_best():
    result = LRFinder(1e-3, 1e3, steps=61, beta=0.0, diverge_factor=4.0).run(lambda lr: 1.0 + lr)
    assert result.diverged and result.smoothed[-1] > 4.0 and result.smoothed[-2] <= 4.0


def test_suggestions_lie_on_the_descent_of_a_synthetic_curve():
    rng = np.random.default_rng(0)

    def train_fn(lr):
        return 2.0 - np.tanh(2 * (np.log10(lr) + 3)) + (lr > 0.3) * lr * 100 + rng.normal(0, 0.01)

    result = LRFinder(1e-6, 10.0, steps=100).run(train_fn)
    assert 3e-4 < result.steepest_lr < 3e-2
    assert 1e-4 < result.valley_lr < 1e-1
    assert result.suggestion == result.valley_lr


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="min_lr"):
        LRFinder(1.0, 0.1)
    with pytest.raises(ValueError, match="steps"):
        LRFinder(steps=2)


def test_real_model_suggested_lr_trains_and_100x_diverges(make_mlp, digits, tmp_path):
    torch = pytest.importorskip("torch")
    x, y = digits
    generator = torch.Generator().manual_seed(0)
    batches = [(x[i], y[i]) for i in (torch.randint(0, 1200, (64,), generator=generator) for _ in range(100))]
    loss_fn = torch.nn.functional.cross_entropy

    def train(lr, steps=150):
        model = make_mlp([64])
        monitor = TrainingMonitor(model=model, on_alert=lambda alert: None)
        optimizer = torch.optim.SGD(model.parameters(), lr, momentum=0.9)
        losses = []
        for step in range(steps):
            inputs, targets = batches[step % len(batches)]
            loss = loss_fn(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            monitor.step(loss, optimizer=optimizer)
        raised = [a.message.split(" since")[0] for a in monitor.alerts if a.kind == "diagnosis"]
        return losses[0], np.mean(losses[-10:]), raised

    model = make_mlp([64])
    optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_range_test(model, optimizer, loss_fn, batches, LRFinder(1e-5, 10.0, steps=100))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert optimizer.param_groups[0]["lr"] == 0.1 and not optimizer.state
    assert result.diverged and len(result.lrs) < 100

    start, end, raised = train(result.suggestion)
    assert end < 0.2 * start and "rules: lr_high" not in raised
    start, end, raised = train(100 * result.suggestion)
    assert not end < start
    assert raised[0] == "rules: lr_high"

    result.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"
