"""The ready-to-train default project bundled under resources/projects/."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from studio.core.project import Project, load_project

DEFAULT_PROJECT_NAME = "digits-cnn.json"


def default_project_path() -> Path:
    """Path of the bundled default project (a small Conv2D on the 8x8 digits)."""
    return Path(str(resources.files("studio.resources") / "projects" / DEFAULT_PROJECT_NAME))


def default_project() -> Project:
    return load_project(default_project_path())
