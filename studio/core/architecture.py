"""An architecture on its own: the layer stack as a small JSON file, to reuse across projects.

Loading also accepts a whole project file (its stack is taken), since that is what a user most
often has at hand. Errors name the file and, through ModelSpec, the layer and parameter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from studio.core.atomic import atomic_write_text
from studio.core.errors import ModelSpecError, StudioError
from studio.core.model_spec import ModelSpec

ARCHITECTURE_FORMAT = "training-studio-architecture"
ARCHITECTURE_VERSION = 1


def architecture_json(spec: ModelSpec) -> str:
    document = {"format": ARCHITECTURE_FORMAT, "format_version": ARCHITECTURE_VERSION,
                **spec.to_dict()}
    return json.dumps(document, indent=2) + "\n"


def save_architecture(spec: ModelSpec, path: str | os.PathLike[str]) -> None:
    """Atomic: an existing file survives any failure."""
    try:
        atomic_write_text(path, architecture_json(spec))
    except OSError as error:
        raise StudioError(f"{path}: could not save the architecture "
                          f"({error.strerror or error}).") from None


def load_architecture(path: str | os.PathLike[str]) -> ModelSpec:
    """Read an architecture file (or a project file's stack); raises ModelSpecError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ModelSpecError(f"{path}: cannot be read ({error.strerror or error}).") from None
    except UnicodeDecodeError:
        raise ModelSpecError(f"{path}: not a text file; architectures are JSON.") from None
    except json.JSONDecodeError as error:
        raise ModelSpecError(f"{path}: not valid JSON (line {error.lineno}, column "
                             f"{error.colno}: {error.msg}).") from None
    if not isinstance(data, dict):
        raise ModelSpecError(f"{path}: not an architecture (expected a JSON object).")
    kind = data.get("format")
    if kind == "training-studio-project":
        data = data.get("model")
    elif kind != ARCHITECTURE_FORMAT:
        raise ModelSpecError(f"{path}: not a Training Studio architecture or project "
                             f"(format {kind!r}).")
    elif not isinstance(data.get("format_version", 1), int) \
            or isinstance(data.get("format_version", 1), bool):
        raise ModelSpecError(f"{path}: 'format_version' must be a whole number.")
    elif data.get("format_version", 1) > ARCHITECTURE_VERSION:
        raise ModelSpecError(f"{path}: written by a newer Training Studio (format version "
                             f"{data['format_version']}); update the studio to open it.")
    try:
        return ModelSpec.from_dict(data)
    except ModelSpecError as error:
        raise ModelSpecError(f"{path}: {error}", layer_index=error.layer_index) from None
