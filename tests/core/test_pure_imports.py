"""``import studio`` and the core run without Qt or TensorFlow (checked in a fresh process)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import studio.core

HEAVY = ("PySide6", "tensorflow", "keras", "pyqtgraph", "numpy")


def _imports_in_fresh_process(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_core_imports_neither_qt_nor_tensorflow():
    modules = [m.name for m in pkgutil.iter_modules(studio.core.__path__, "studio.core.")]
    assert len(modules) >= 8
    loaded = _imports_in_fresh_process("\n".join(f"import {m}" for m in modules))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_version_command_imports_neither_qt_nor_tensorflow():
    loaded = _imports_in_fresh_process(
        "import contextlib, io\nfrom studio.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--version']) == 0")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
