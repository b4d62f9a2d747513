"""Save and load ``.keras`` files: atomically, and only ever with ``safe_mode=True``."""

from __future__ import annotations

import os
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
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged or unsafe files.
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ExportError(f"{path}: not a loadable Keras model ({message}).") from None
