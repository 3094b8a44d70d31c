"""Every Python block of docs/monitor.md runs as written (the first is the README's training-loop section)."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "monitor.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_training_loop_section_comes_first():
    section = DOC.read_text(encoding="utf-8").split("## Use it in your training loop", 1)[1]
    assert section.split("```python\n", 1)[1].startswith(BLOCKS[0])


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs_as_written(index, tmp_path, monkeypatch, capsys):
    code = BLOCKS[index]
    for module in re.findall(r"^(?:from|import) (\w+)", code, flags=re.M):
        pytest.importorskip(module if module != "sklearn" else "sklearn")
    for name in ("transformers", "lightning"):
        if f"callbacks.{'hf' if name == 'transformers' else name}" in code:
            pytest.importorskip(name)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{DOC.name}[block {index}]", "exec"), {"__name__": "__doc_block__"})
    out = capsys.readouterr().out
    if index == 0:
        assert "rules: lr_high since step" in out
        assert (tmp_path / "training.png").stat().st_size > 0
        assert (tmp_path / "training.csv").read_text().startswith("step,")
