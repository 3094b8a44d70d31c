"""The one error type for bad input: it names the file, the place in it, and what was expected.

>>> print(InputError("runs/a.csv", "expected a number", line=3, column="train_loss", found="abc"))
runs/a.csv:3: column 'train_loss': expected a number, found 'abc'
"""

from __future__ import annotations

import os


class InputError(ValueError):
    """Input that curvebench cannot read; the CLI prints it and exits with code 2."""

    def __init__(
        self,
        path: str | os.PathLike | None,
        expected: str,
        *,
        line: int | None = None,
        column: str | int | None = None,
        found: object = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.expected = expected
        self.line = line
        self.column = column
        self.found = found
        super().__init__(self._message())

    def _message(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.column is not None:
            parts.append(f"column {self.column!r}" if isinstance(self.column, str) else f"column {self.column}")
        text = f"{self.expected}"
        if self.found is not None:
            text += f", found {self.found!r}"
        return ": ".join(parts) + ": " + text
