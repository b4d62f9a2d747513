"""The project file: architecture, dataset choice and training settings in one JSON file.

The file carries a format version. Older versions are migrated step by step on load; a file
from a newer studio is refused with a message rather than half-read. Saving is atomic, so a
crash while saving never destroys the previous file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.atomic import atomic_write_text
from studio.core.dataset_spec import DatasetSpec
from studio.core.errors import ProjectError, StudioError
from studio.core.model_spec import ModelSpec
from studio.core.placement import Placement
from studio.core.training_config import TrainingConfig

FORMAT_NAME = "training-studio-project"
FORMAT_VERSION = 3


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 named a built-in dataset; version 2 has sources, a test split, normalisation."""
    dataset = dict(data.get("dataset") or {})
    if "source" not in dataset:
        dataset["source"] = {"kind": "builtin", "name": dataset.pop("name", "digits")}
    data["dataset"] = dataset
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 records where to train (``devices``); older projects trained automatically."""
    data.setdefault("devices", Placement().to_dict())
    return data


#: ``MIGRATIONS[n]`` turns a version-n document into a version-(n+1) document.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


@dataclass(frozen=True)
class Project:
    """Everything needed to train the same model again, in the window or headless."""

    name: str = "Untitled"
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    devices: Placement = field(default_factory=Placement)

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        """``base``: the project file's folder; data inside it is saved with relative paths."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "dataset": self.dataset.to_dict(base),
            "model": self.model.to_dict(),
            "training": self.training.to_dict(),
            "devices": self.devices.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: object, base: Path | None = None) -> Project:
        """Validate (after migrating) a parsed document; errors name the offending part.

        Relative data paths are resolved against ``base``, the project file's folder.
        """
        if not isinstance(data, dict):
            raise ProjectError("The file is not a Training Studio project (expected an object).")
        data = migrate(data)
        name = data.get("name", "Untitled")
        if not isinstance(name, str):
            raise ProjectError("'name' must be text.")
        for section in ("dataset", "model", "training", "devices"):
            if section not in data:
                raise ProjectError(f"The project has no '{section}' section.")
        return cls(
            name=name,
            dataset=DatasetSpec.from_dict(data["dataset"], base),
            model=ModelSpec.from_dict(data["model"]),
            training=TrainingConfig.from_dict(data["training"]),
            devices=Placement.from_dict(data["devices"]),
        )


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a document up to ``FORMAT_VERSION`` or explain why it cannot be."""
    if data.get("format") != FORMAT_NAME:
        raise ProjectError(
            f"The file is not a Training Studio project (its 'format' is not {FORMAT_NAME!r})."
        )
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError("'format_version' must be a whole number of at least 1.")
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"The project was saved by a newer Training Studio (format {version}; this version "
            f"reads up to {FORMAT_VERSION}). Update the studio to open it."
        )
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
        data["format_version"] = version
    return data


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; any problem becomes a ProjectError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such project file.") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not a project file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"{path}: cannot be read ({error}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"{path}: not valid JSON at line {error.lineno}, column {error.colno} "
            f"({error.msg}). The file may be damaged; open a backup or a template instead."
        ) from None
    try:
        return Project.from_dict(data, path.parent.absolute())
    except StudioError as error:
        raise ProjectError(f"{path}: {error}") from None


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write the project atomically: the old file survives any failure."""
    base = Path(path).parent.absolute()
    text = json.dumps(project.to_dict(base), indent=2) + "\n"
    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise ProjectError(f"{path}: could not save ({error.strerror or error}).") from None
