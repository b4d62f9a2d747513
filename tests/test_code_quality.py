"""Lint, types and the layering contract run as part of the suite, so CI enforces them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extra (pip install -e .[test])")
    return found


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "studio", "tests"], ["mypy"], ["lint-imports"]],
    ids=["ruff", "mypy", "import-linter"],
)
def test_tool_passes(command):
    done = subprocess.run([_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
