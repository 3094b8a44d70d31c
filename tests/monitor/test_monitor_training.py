"""Done-when: a real PyTorch loop with TrainingMonitor gets the right alert and diagnosis."""

import pytest

from curvebench.monitor import TrainingMonitor

torch = pytest.importorskip("torch")


def _watch(model, optimizer, train_loop, steps, **loop_args):
    monitor = TrainingMonitor(model=model, on_alert=lambda alert: None)
    train_loop(model, optimizer, steps, lambda loss, val: monitor.step(loss, val_loss=val, optimizer=optimizer),
               **loop_args)
    return monitor


def _kinds(monitor):
    return {alert.kind for alert in monitor.alerts}


def _diagnosis_alerts(monitor):
    return [alert.message.split(" since")[0] for alert in monitor.alerts if alert.kind == "diagnosis"]


def test_too_high_lr_raises_explosion_alert_and_lr_high(make_mlp, train_loop):
    model = make_mlp([64])
    monitor = _watch(model, torch.optim.SGD(model.parameters(), lr=20.0), train_loop, steps=60)
    assert "grad_explosion" in _kinds(monitor)
    diagnosis = monitor.diagnoses["rules"]
    assert diagnosis.label == "lr_high" and diagnosis.onset_step < 10
    assert "Lower the learning rate" in diagnosis.recommendation
    assert _diagnosis_alerts(monitor) == ["rules: lr_high"]


def test_too_low_lr_is_diagnosed_lr_low_without_false_alarms(make_mlp, train_loop):
    model = make_mlp([64])
    monitor = _watch(model, torch.optim.SGD(model.parameters(), lr=1e-4), train_loop, steps=150)
    assert _kinds(monitor) == {"diagnosis"}
    assert _diagnosis_alerts(monitor) == ["rules: lr_low"]
    assert monitor.diagnoses["rules"].label == "lr_low"
    assert "Raise the learning rate" in monitor.diagnoses["rules"].recommendation


def test_small_subset_big_model_long_run_is_diagnosed_overfit(make_mlp, train_loop):
    model = make_mlp([256, 256])
    monitor = _watch(model, torch.optim.Adam(model.parameters(), lr=1e-3), train_loop, steps=300,
                     n_train=50, batch_size=50)
    diagnosis = monitor.diagnoses["rules"]
    assert diagnosis.label == "overfit"
    assert "rules: overfit" in _diagnosis_alerts(monitor)
    run = monitor.to_run()
    val = run.channel("val_loss")
    assert val.steps[val.values.argmin()] < diagnosis.onset_step
    assert "early stopping" in diagnosis.recommendation
    assert "NaN" not in monitor.report() and "overfit since step" in monitor.report()


def test_model_gradient_norm_matches_clip_grad_norm(make_mlp, digits):
    model = make_mlp([32])
    x, y = digits
    torch.nn.functional.cross_entropy(model(x[:64]), y[:64]).backward()
    monitor = TrainingMonitor(model=model)
    monitor.step(1.0)
    expected = torch.nn.utils.clip_grad_norm_(model.parameters(), 1e9)
    assert monitor.to_run().channel("grad_norm").values[0] == pytest.approx(float(expected), rel=1e-6)


def test_watching_activations_alerts_on_dead_relus(make_mlp, train_loop):
    model = make_mlp([32, 32])
    with torch.no_grad():
        model[2].bias.fill_(-20.0)
    monitor = TrainingMonitor(model=model, watch_activations=True, activation_every=5, on_alert=lambda a: None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    train_loop(model, optimizer, 10, lambda loss, val: monitor.step(loss, optimizer=optimizer))
    messages = [a.message for a in monitor.alerts if a.kind == "activations"]
    assert any("'3'" in m and "dead" in m for m in messages)
    assert len(messages) == len(set(messages))
    monitor.close()
    assert not model[3]._forward_hooks
