"""A tiny real training loop on sklearn's digits, shared by the torch tests of the monitor."""

import pytest


@pytest.fixture(scope="session")
def digits():
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)


@pytest.fixture
def make_mlp():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)

    def make(widths):
        torch.manual_seed(0)
        layers, width = [], 64
        for w in widths:
            layers += [torch.nn.Linear(width, w), torch.nn.ReLU()]
            width = w
        return torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))

    return make


@pytest.fixture
def train_loop(digits):
    """``train_loop(model, optimizer, steps, n_train, on_step)``: minibatch SGD steps, val loss every 10 steps.

    ``on_step(loss, val_loss)`` is called after each optimizer step (``val_loss`` None between evaluations).
    """
    import torch

    x, y = digits
    x_val, y_val = x[1400:], y[1400:]

    def loop(model, optimizer, steps, on_step, n_train=1200, batch_size=64):
        generator = torch.Generator().manual_seed(0)
        for step in range(steps):
            index = torch.randint(0, n_train, (batch_size,), generator=generator)
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            val_loss = None
            if step % 10 == 9:
                with torch.no_grad():
                    val_loss = torch.nn.functional.cross_entropy(model(x_val), y_val)
            on_step(loss, val_loss)

    return loop
