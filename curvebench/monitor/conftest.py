"""Skip the doctests that need an optional extra which is not installed (torch, transformers, lightning)."""

import importlib.util


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ImportError:
        return True


_NEEDS = {
    "_torch.py": "torch",
    "autotrainer.py": "torch",
    "callbacks/hf.py": "transformers",
    "callbacks/lightning.py": "lightning",
}
collect_ignore = [path for path, module in _NEEDS.items() if _missing(module)]
