"""The TrainingMonitor's overhead on a small MLP training step on CPU, activation hooks on.

A 64-256-256-10 ReLU MLP, batch 128, Adam, one thread. The monitor reads the LR from the
optimizer, streams every step into the ``rules`` detector and watches both ReLU layers
(one-shot forward hooks capture one batch in 100; statistics every 100 steps). Two ways to get the gradient norm:

- ``from_clipping``: the loop already clips (``clip_grad_norm_``, in the bare step too) and hands
  the returned norm to the monitor, the usual loop: the overhead is the monitor's own;
- ``computed``: the loop does not clip and the monitor computes the norm from the model.

Times are the thread's CPU time (``time.thread_time``), so other processes on a shared machine
do not count; bare and monitored blocks of steps come in pairs (in random order) so that each
pair sees the same conditions; the overhead is the median over pairs of (monitored block / bare block - 1). The
mean CPU time spent inside ``monitor.step`` (flushes included, one-shot hooks not) is reported
too: it is steadier, and most of the overhead.

Run with ``python -m pytest benchmarks/bench_monitor.py --benchmark-enable -p no:cacheprovider``;
``extra_info`` holds ``bare_step_us``, ``monitored_step_us``, ``overhead_pct``,
``inside_monitor_step_us`` and ``inside_pct_of_bare_step``.
"""

import random
import statistics
import time

import pytest

torch = pytest.importorskip("torch")

from curvebench.monitor import TrainingMonitor  # noqa: E402

BATCH = 128
BLOCK = 50
BLOCKS = 41


def _setup():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(BATCH, 64), torch.randint(0, 10, (BATCH,))
    monitor = TrainingMonitor(model=model, watch_activations=True, batch_size=BATCH, on_alert=lambda alert: None)
    return model, optimizer, x, y, monitor


def _train_step(model, optimizer, x, y, clip):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0) if clip else None
    optimizer.step()
    return loss, grad_norm


def _block(model, optimizer, x, y, monitor, clip, inside):
    start = time.thread_time()
    for _ in range(BLOCK):
        loss, grad_norm = _train_step(model, optimizer, x, y, clip)
        if monitor is not None:
            entered = time.thread_time()
            monitor.step(loss, grad_norm=grad_norm, optimizer=optimizer)
            inside.append(time.thread_time() - entered)
    return (time.thread_time() - start) / BLOCK


def measure_overhead(clip):
    """Seconds per step of each bare and each monitored block, interleaved."""
    model, optimizer, x, y, monitor = _setup()
    hooks = monitor.activations
    bare, monitored, inside = [], [], []
    _block(model, optimizer, x, y, None, clip, inside)
    order = random.Random(0)
    for _ in range(BLOCKS):
        for watched in order.sample([False, True], 2):
            if watched:
                monitored.append(_block(model, optimizer, x, y, monitor, clip, inside))
            else:
                hooks.detach()
                bare.append(_block(model, optimizer, x, y, None, clip, inside))
    return bare, monitored, sum(inside) / len(inside), monitor


@pytest.mark.benchmark(group="monitor")
@pytest.mark.parametrize("grad_norm", ["from_clipping", "computed"])
def test_monitor_overhead_on_a_small_mlp_step(benchmark, grad_norm):
    bare, monitored, inside, monitor = benchmark.pedantic(
        measure_overhead, args=(grad_norm == "from_clipping",), rounds=1, iterations=1
    )
    assert len(monitor.steps) == BLOCK * BLOCKS
    overhead = statistics.median(m / b - 1 for b, m in zip(bare, monitored))
    bare, monitored = statistics.median(bare), statistics.median(monitored)
    assert monitor.diagnoses["rules"].label in ("healthy", "plateau", "lr_low", "overfit")
    benchmark.extra_info["bare_step_us"] = round(bare * 1e6, 1)
    benchmark.extra_info["monitored_step_us"] = round(monitored * 1e6, 1)
    benchmark.extra_info["overhead_pct"] = round(100 * overhead, 2)
    benchmark.extra_info["inside_monitor_step_us"] = round(inside * 1e6, 1)
    benchmark.extra_info["inside_pct_of_bare_step"] = round(100 * inside / bare, 2)
