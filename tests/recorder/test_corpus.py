"""The shipped ``recorded-cpu`` corpus: checksums, counts, and every run re-checked by the verification rules."""

import json
import re
import shutil
from collections import Counter
from importlib import resources

import numpy as np
import pytest

from curvebench.datasets import corpora
from curvebench.datasets.recorder.causes import TASKS
from curvebench.datasets.recorder.verify import classify
from curvebench.errors import InputError
from curvebench.run import LABELS

@pytest.fixture(scope="module")
def corpus():
    return corpora.load("recorded-cpu")


@pytest.fixture(scope="module")
def summary():
    text = (resources.files("curvebench.datasets") / "data" / "recorded-cpu.summary.json").read_text()
    return json.loads(text)


def test_counts_meet_the_targets(corpus):
    counts = Counter(corpus.labels)
    assert len(corpus) >= 600
    assert all(counts[label] >= 100 for label in LABELS), counts
    cells = Counter((run.meta["task"], run.label) for run in corpus)
    for task in TASKS:
        for label in LABELS:
            assert cells[(task, label)] > 0, (task, label)


def test_every_lr_high_mode_shows_in_real_runs(corpus):
    modes = Counter(run.mode for run in corpus if run.label == "lr_high")
    assert {"lr_high/nan", "lr_high/divergence", "lr_high/oscillation"} <= modes.keys(), modes


def test_every_shipped_run_passes_the_verification_rules(corpus):
    for run in corpus:
        verdict = classify(run)
        assert verdict is not None, run.run_id
        assert (verdict.label, verdict.mode, verdict.onset_step) == (run.label, run.mode, run.onset_step), run.run_id
        assert run.label == run.meta["cause"]["label"] and run.meta["verified_by"] == run.mode


def test_runs_carry_their_provenance_and_safe_unique_ids(corpus):
    ids = [run.run_id for run in corpus]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", run_id) for run_id in ids)
    for run in corpus:
        assert run.meta["source"] == "recorded" and run.meta["device"] == "cpu"
        assert {"task", "cause", "seed", "torch", "verified_by"} <= run.meta.keys()
        assert len(run.channel("val_loss")) >= 20


def test_values_are_stored_at_float32_precision(corpus):
    for run in corpus[::25]:
        for channel in run.channels.values():
            finite = channel.values[np.isfinite(channel.values)]
            assert np.array_equal(finite.astype(np.float32).astype(np.float64), finite)


def test_summary_matches_the_corpus(corpus, summary):
    kept = Counter((run.meta["task"], run.meta["cause"]["label"]) for run in corpus)
    for cell in summary["cells"]:
        assert kept[(cell["task"], cell["label"])] == cell["kept"]
        assert cell["kept"] + sum(cell["discarded"].values()) == cell["attempted"]


def test_a_corrupted_corpus_fails_its_checksum(tmp_path):
    with resources.as_file(corpora.corpus_path("recorded-cpu")) as path:
        shutil.copy(path, tmp_path / path.name)
        shutil.copy(path.with_name(path.name + ".sha256"), tmp_path / (path.name + ".sha256"))
    copy = tmp_path / "recorded-cpu.parquet"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(InputError, match="sha256"):
        corpora.read_checked(copy)


def test_the_corpus_loads_from_the_datasets_package_without_torch():
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None; import curvebench.datasets as d; "
            "print(len(d.load('recorded-cpu')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) >= 600


def test_unknown_corpus_names_suggest_the_close_one():
    with pytest.raises(KeyError, match="did you mean 'recorded-cpu'"):
        corpora.load("recorded-cpv")
