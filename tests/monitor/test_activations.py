import math

import numpy as np
import pytest

from curvebench.monitor import ActivationMonitor


def test_numpy_statistics_are_the_seed_ones():
    a = np.array([[0.0, 2.0, -1.0], [0.0, 4.0, 1.0]])
    stats = ActivationMonitor().record("layer", a)
    assert (stats.mean, stats.min, stats.max) == (1.0, -1.0, 4.0)
    assert stats.std == pytest.approx(a.std())
    assert stats.frac_zero == pytest.approx(2 / 6)
    assert stats.frac_dead == pytest.approx(1 / 3)
    assert math.isnan(stats.frac_saturated)


def test_healthy_layers_have_no_issues_and_vanishing_exploding_are_named():
    rng = np.random.default_rng(0)
    monitor = ActivationMonitor()
    monitor.record("healthy", np.maximum(rng.standard_normal((64, 32)), 0))
    monitor.record("vanishing", 1e-5 * rng.standard_normal((64, 32)))
    monitor.record("exploding", 1e4 * rng.standard_normal((64, 32)))
    monitor.record("nan", np.array([[1.0, np.nan]]))
    report = monitor.diagnose()
    assert "healthy" not in report
    assert report["vanishing"][0].startswith("vanishing")
    assert report["exploding"][0].startswith("exploding")
    assert report["nan"][0].startswith("exploding")


def _net(torch, activation, bias=0.0, gain=1.0):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 32), activation(), torch.nn.Linear(32, 32), activation())
    with torch.no_grad():
        for layer in (net[0], net[2]):
            layer.weight.mul_(gain)
            layer.bias.fill_(bias)
    return net


def test_hooks_on_a_real_model_find_dead_relus_and_saturated_tanh():
    torch = pytest.importorskip("torch")
    x = torch.randn(64, 20)
    nets = {}
    for name, (act, kw) in {"dead": (torch.nn.ReLU, {"bias": -3.0}), "saturated": (torch.nn.Tanh, {"gain": 30.0}),
                            "healthy": (torch.nn.ReLU, {})}.items():
        net = _net(torch, act, **kw)
        nets[name] = (net, ActivationMonitor().attach(net))
    for net, _ in nets.values():
        net(x)
    assert nets["healthy"][1].diagnose() == {}
    dead_report = nets["dead"][1].diagnose()
    assert "3" in dead_report
    assert dead_report["3"][0].startswith("dead")
    saturated_report = nets["saturated"][1].diagnose()
    assert saturated_report["1"][0].startswith("saturated")
    assert "[-1, 1]" in saturated_report["1"][0]


def test_tensor_and_array_statistics_agree_and_detach_removes_hooks():
    torch = pytest.importorskip("torch")
    net = _net(torch, torch.nn.Tanh)
    monitor = ActivationMonitor().attach(net, layers=["1"])
    x = torch.randn(16, 20)
    out = torch.tanh(net[0](x)).detach()
    net(x)
    from_hook = monitor.collect()["1"]
    from_array = ActivationMonitor().record("1", out.double().numpy(), bounds=(-1.0, 1.0))
    for key, value in from_array.to_dict().items():
        assert getattr(from_hook, key) == pytest.approx(value, rel=1e-9)
    monitor.detach()
    net(x * 100)
    assert monitor.collect()["1"] == from_hook


def test_unknown_layer_name_is_a_key_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(KeyError, match="no submodule 'fc9'"):
        ActivationMonitor().attach(_net(torch, torch.nn.ReLU), layers=["fc9"])


def test_one_shot_hooks_capture_a_single_forward_until_rearmed():
    torch = pytest.importorskip("torch")
    net = _net(torch, torch.nn.ReLU)
    monitor = ActivationMonitor().attach(net, one_shot=True)
    x = torch.randn(16, 20)
    net(x)
    assert not net[1]._forward_hooks and not net[3]._forward_hooks
    first = monitor.collect()["1"]
    net(x * 10)
    assert monitor.collect()["1"] == first
    monitor.rearm()
    net(x * 10)
    assert monitor.collect()["1"].max == pytest.approx(10 * first.max, rel=1e-5)
