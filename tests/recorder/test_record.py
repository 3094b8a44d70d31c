"""The recorder trains real models: per-step channels, verified labels, determinism, stacked = alone."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from curvebench.datasets.recorder.causes import TASKS, cause_variants  # noqa: E402
from curvebench.datasets.recorder.record import EVALUATIONS, lr_at, record, train_stack  # noqa: E402
from curvebench.datasets.recorder.verify import verify_run  # noqa: E402

CPU = torch.device("cpu")


def _short(task, label, variant=0, steps=40):
    return dict(cause_variants(task, label)[variant]["config"], steps=steps)


def _close(a, b):
    """Same channels, labels and values up to float32 rounding (BLAS kernels differ between CPUs)."""
    same_labels = (a.label, a.mode, a.onset_step) == (b.label, b.mode, b.onset_step)
    return (a.channels.keys() == b.channels.keys() and same_labels
            and all(np.allclose(a.channels[k].values, b.channels[k].values, rtol=1e-4, atol=1e-7, equal_nan=True)
                    for k in a.channels))


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_logs_every_channel_at_every_step(task):
    [run] = train_stack(task, _short(task, "healthy"), [0], CPU)
    for name in ("train_loss", "grad_norm", "lr", "update_ratio", "grad_norm.first_layer", "grad_norm.last_layer",
                 "act_std", "dead_relu_frac"):
        assert len(run.channel(name)) == 40, name
    assert len(run.channel("val_loss")) >= EVALUATIONS - 1
    assert np.all(np.isfinite(run.channel("train_loss").values))


def test_same_seed_gives_bit_identical_runs():
    config = _short("charlm", "healthy")
    assert train_stack("charlm", config, [4], CPU) == train_stack("charlm", config, [4], CPU)


def test_a_seed_trained_in_a_stack_equals_the_seed_trained_alone():
    config = _short("digits_mlp", "healthy", variant=1)
    stacked = train_stack("digits_mlp", config, [1, 3, 5], CPU)
    alone = train_stack("digits_mlp", config, [3], CPU)
    assert _close(stacked[1], alone[0])
    assert stacked[0] != stacked[1]


def test_grad_norm_is_taken_before_clipping():
    config = dict(_short("charlm", "lr_high"), clip=1e-3)
    [run] = train_stack("charlm", config, [0], CPU)
    assert np.nanmax(run.channel("grad_norm").values) > 1e-2


def test_update_ratio_is_the_step_length_over_the_weight_norm():
    from curvebench.datasets.recorder.stacked import per_seed_sq_norm
    from curvebench.datasets.recorder.tasks import build_net, load_data

    config = dict(_short("diabetes_mlp", "healthy", variant=1), clip=None, momentum=0.0, weight_decay=0.0,
                  schedule="constant", steps=10)
    [run] = train_stack("diabetes_mlp", config, [0], CPU)
    net = build_net("diabetes_mlp", config, [0], load_data("diabetes_mlp"), CPU)
    weight_norm = per_seed_sq_norm(net.params.values()).sqrt().item()
    expected = config["lr"] * run.channel("grad_norm").values[0] / weight_norm
    assert run.channel("update_ratio").values[0] == pytest.approx(expected, rel=1e-4)


def test_tanh_networks_log_their_saturated_fraction():
    [run] = train_stack("spirals_mlp", _short("spirals_mlp", "plateau", variant=1), [0], CPU)
    assert run.has("saturated_frac") and not run.has("dead_relu_frac")
    assert np.all(run.channel("saturated_frac").values > 0.99)


def test_dead_relu_cause_shows_in_its_channel():
    [run] = train_stack("digits_mlp", _short("digits_mlp", "plateau"), [0], CPU)
    assert np.all(run.channel("dead_relu_frac").values == 1.0)


def test_mixed_precision_path_logs_a_loss_scale_on_cpu():
    [run] = train_stack("digits_mlp", _short("digits_mlp", "healthy"), [0], CPU, amp=True)
    assert run.has("loss_scale")
    assert np.all(run.channel("loss_scale").values > 0)


def test_record_keeps_only_runs_whose_numbers_show_the_intended_label():
    result = record("digits_mlp", "plateau", seeds=[0, 3], device="cpu", steps=200)
    assert result.attempted == 2
    assert len(result.runs) + sum(result.discarded.values()) == 2
    for run in result.runs:
        assert verify_run(run, "plateau").passed
        assert run.meta["source"] == "recorded" and run.meta["device"] == "cpu"
        assert run.meta["verified_by"] == run.mode
        assert run.run_id.startswith("digits_mlp-plateau-") and "/" not in run.run_id


def test_learning_rate_schedules():
    config = {"lr": 1.0, "warmup": 10, "steps": 100}
    assert lr_at(50, {**config, "schedule": "constant"}) == 1.0
    assert lr_at(9, {**config, "schedule": "warmup_cosine"}) == pytest.approx(1.0)
    assert lr_at(99, {**config, "schedule": "cosine"}) < 1e-3
    assert lr_at(40, {**config, "schedule": "step"}) == pytest.approx(0.1)


def test_loss_scaler_skips_and_halves_only_the_overflowing_seed():
    from curvebench.datasets.recorder.record import LossScaler

    w = torch.ones(2, 3, requires_grad=True)
    scaler = LossScaler(2, CPU)
    scaler.scale = torch.tensor([4.0, 4.0])
    loss = (w * torch.tensor([[1.0], [float("inf")]])).sum(1)
    active = scaler.backward(loss, [w])
    assert active.tolist() == [True, False]
    assert scaler.scale.tolist() == [4.0, 2.0]
    assert w.grad[0].tolist() == [1.0, 1.0, 1.0]


def test_shipped_runs_are_reproduced_by_the_recorder():
    from curvebench.datasets.corpora import load

    shipped = {run.run_id: run for run in load("recorded-cpu") if run.meta["task"] == "diabetes_mlp"
               and run.meta["cause"]["label"] == "healthy"}
    again = record("diabetes_mlp", "healthy", seeds=range(32), device="cpu")
    assert shipped and {run.run_id for run in again.runs} == set(shipped)
    for run in again.runs:
        assert _close(run, shipped[run.run_id]) and run.meta == shipped[run.run_id].meta
