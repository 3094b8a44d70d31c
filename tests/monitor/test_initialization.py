import numpy as np
import pytest

from curvebench.monitor import check_initialization


def test_he_xavier_and_torch_default_initializations_pass():
    rng = np.random.default_rng(0)
    he = rng.normal(0, np.sqrt(2 / 300), (100, 300))
    xavier = rng.uniform(-1, 1, (100, 300)) * np.sqrt(6 / 400)
    torch_default = rng.uniform(-1, 1, (100, 300)) / np.sqrt(300)
    report = check_initialization([he, xavier, torch_default])
    assert report["ok"], report
    assert report["layers"]["weight0"]["closest"] == "he"
    assert report["layers"]["weight1"]["closest"] == "xavier"


def test_bad_initializations_are_named():
    rng = np.random.default_rng(1)
    layers = [
        rng.normal(0, 1.0, (64, 256)),     # far too large
        rng.normal(0, 1e-4, (64, 256)),    # far too small
        rng.normal(0.2, 0.08, (64, 256)),  # biased mean
        np.pad(rng.normal(0, 0.08, (64, 256)), 0) + np.eye(64, 256) * 5,  # extreme values
        np.full((64, 256), np.nan),
    ]
    issues = {name: " ".join(layer["issues"]) for name, layer in check_initialization(layers)["layers"].items()}
    assert "above" in issues["weight0"]
    assert "below" in issues["weight1"]
    assert "mean" in issues["weight2"]
    assert "extreme" in issues["weight3"]
    assert "non-finite" in issues["weight4"]


def test_layouts_and_conv_fans():
    w = np.random.default_rng(2).normal(0, 0.1, (8, 4, 3, 3))
    layer = check_initialization([w])["layers"]["weight0"]
    assert (layer["fan_in"], layer["fan_out"]) == (36, 72)
    flipped = check_initialization([w[:, :, 0, 0].T], layout="in_out")["layers"]["weight0"]
    assert (flipped["fan_in"], flipped["fan_out"]) == (4, 8)
    with pytest.raises(ValueError, match="layout"):
        check_initialization([w], layout="bad")


def test_torch_model_default_init_passes_and_zeroed_layer_fails():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 30 * 30, 10))
    report = check_initialization(model)
    assert report["ok"] and list(report["layers"]) == ["0.weight", "2.weight"]
    with torch.no_grad():
        model[2].weight.zero_()
    assert check_initialization(model)["layers"]["2.weight"]["status"] == "bad"
