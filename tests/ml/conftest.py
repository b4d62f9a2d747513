from __future__ import annotations

from dataclasses import replace

import pytest

from studio.core.defaults import default_project


@pytest.fixture
def quick_project():
    """The default project, trained for 2 epochs with a large batch: seconds, not minutes."""
    project = default_project()
    return replace(project, training=replace(project.training, epochs=2, batch_size=64))
