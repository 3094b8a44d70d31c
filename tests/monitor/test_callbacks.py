"""The framework adapters, each tested with its framework installed (skipped without it)."""

import logging

import pytest

torch = pytest.importorskip("torch")


class _Digits(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": self.y[i]}


class _HFModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))

    def forward(self, x, labels=None):
        logits = self.net(x)
        return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}


def test_hf_trainer_feeds_the_monitor_with_train_and_eval_losses(digits, tmp_path, caplog):
    pytest.importorskip("transformers")
    from transformers import Trainer, TrainingArguments

    from curvebench.monitor.callbacks.hf import CurvebenchHFCallback

    torch.manual_seed(0)
    x, y = digits
    callback = CurvebenchHFCallback(on_alert=lambda alert: None)
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=40, logging_steps=2, eval_strategy="steps", eval_steps=10,
        per_device_train_batch_size=32, learning_rate=1e-2, report_to=[], save_strategy="no", use_cpu=True,
        disable_tqdm=True, seed=0,
    )
    trainer = Trainer(model=_HFModel(), args=args, train_dataset=_Digits(x[:1200], y[:1200]),
                      eval_dataset=_Digits(x[1400:], y[1400:]), callbacks=[callback])
    with caplog.at_level(logging.INFO, logger="curvebench.monitor"):
        trainer.train()
    run = callback.monitor.to_run()
    assert run.channel("train_loss").steps.tolist() == list(range(2, 41, 2))
    assert run.channel("val_loss").steps.tolist() == [10, 20, 30, 40]
    assert run.has("grad_norm") and run.has("lr")
    assert callback.monitor.diagnoses["rules"].label in ("healthy", "lr_low", "plateau", "overfit", "lr_high")
    assert callback.monitor.throughput()["samples_per_s"] > 0
    assert "Training summary: 20 steps" in caplog.text


def test_lightning_trainer_feeds_the_monitor_and_diagnoses_a_too_high_lr(digits):
    pytest.importorskip("lightning")
    import lightning.pytorch as pl

    from curvebench.monitor.callbacks.lightning import CurvebenchLightningCallback

    class Module(pl.LightningModule):
        def __init__(self, lr):
            super().__init__()
            self.lr = lr
            self.net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)

    x, y = digits
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:640], y[:640]), batch_size=64)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[1400:], y[1400:]), batch_size=400)
    torch.manual_seed(0)
    callback = CurvebenchLightningCallback(on_alert=lambda alert: None)
    trainer = pl.Trainer(max_steps=60, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", callbacks=[callback])
    trainer.fit(Module(lr=20.0), train, val)
    run = callback.monitor.to_run()
    assert run.channel("train_loss").steps.tolist() == list(range(1, 61))
    assert run.channel("val_loss").steps.tolist() == [10, 20, 30, 40, 50, 60]
    assert run.channel("lr").values[0] == 20.0
    kinds = {alert.kind for alert in callback.monitor.alerts}
    assert "grad_explosion" in kinds
    assert callback.monitor.diagnoses["rules"].label == "lr_high"
