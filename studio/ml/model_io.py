"""Save and load ``.keras`` files: atomically, and only ever with ``safe_mode=True``."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras

from studio.core.atomic import atomic_path
from studio.core.errors import ExportError


def save_keras(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a ``.keras`` file; an existing file survives any failure."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ExportError(f"{path}: a Keras model file must end in .keras.")
    try:
        with atomic_path(path) as tmp:
            model.save(tmp)
    except OSError as error:
        raise ExportError(f"{path}: could not save the model ({error.strerror or error}).") \
            from None
    return path


def load_keras(path: str | os.PathLike[str]) -> keras.Model:
    """Load a ``.keras`` file with safe_mode (no arbitrary code from the file is run)."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such model file.")
    lambdas = lambda_layers(path)
    if lambdas:
        raise ExportError(
            f"{path}: has a Lambda layer ({', '.join(lambdas)}), which holds Python code. "
            "Keras' safe mode refuses to run code stored in a file (it could do anything), "
            "so Training Studio does not open it; rebuild the model without Lambda layers.")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged or unsafe files.
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ExportError(f"{path}: not a loadable Keras model ({message}).") from None


def lambda_layers(path: Path) -> list[str]:
    """Names of Lambda layers in a .keras file's config, read as JSON (nothing is run)."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []  # loading explains what is wrong with the file
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                found.append(str(node.get("config", {}).get("name", "Lambda")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found
