"""Without the torch extra, a command that needs torch says how to install it and exits 2 (no traceback)."""

import os
import subprocess
import sys

CODE = 'from curvebench.cli import main; raise SystemExit(main(["record", "--task", "digits_mlp", ' \
       '"--label", "healthy", "--seeds", "0:1", "--out", "unused"]))'


def test_record_without_torch_names_the_extra(tmp_path):
    fake = tmp_path / "no_torch" / "torch"  # shadows the real torch: importing it fails as if not installed
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named \'torch\'")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CODE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pip install curvebench[torch]" in done.stderr
    assert "Traceback" not in done.stderr
