"""Core tests need neither Qt nor TensorFlow; ``test_core_runs_alone`` proves it."""

from __future__ import annotations

import os
import sys

import pytest

HEAVY = ("PySide6", "tensorflow", "keras", "pyqtgraph")


@pytest.fixture(autouse=True)
def nothing_heavy_imported():
    yield
    if os.environ.get("STUDIO_CORE_ONLY"):
        loaded = [name for name in HEAVY if name in sys.modules]
        assert not loaded, f"core test imported {loaded}"
