"""The core test suite passes in a process where neither Qt nor TensorFlow is ever imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_tests_pass_without_qt_or_tensorflow():
    env = {**os.environ, "STUDIO_CORE_ONLY": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/core", "-q", "-p", "no:pytest-qt",
         "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestConfigWarning"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
