"""Exports are written beside their destination and moved into place only once complete.

A failed, refused or interrupted export leaves nothing behind, and what was there before
survives it. Unlike ``atomic_path`` this stages folders too (a SavedModel) and files that
belong together (a script and its data), under their final names, because some writers
insist on them (Keras wants ``.weights.h5``, not a temporary suffix).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from studio.core.errors import ExportError


def refuse_existing(targets: Sequence[Path], overwrite: bool) -> None:
    """Raise when a target exists and may not be replaced (checked early and again later)."""
    if overwrite:
        return
    for target in targets:
        if os.path.lexists(target):
            raise ExportError(f"{target} already exists; choose another name, or allow "
                              "overwriting it (--overwrite).")


@contextlib.contextmanager
def staged(targets: Sequence[str | os.PathLike[str]], *, overwrite: bool
           ) -> Iterator[list[Path]]:
    """Yield one path per target in a hidden folder beside them; on success each replaces its
    target (a folder too), and the hidden folder goes in every case.

    The targets must share a folder, so that every move is a rename within one file system.
    """
    paths = [Path(target) for target in targets]
    if not paths or len({path.parent for path in paths}) != 1:
        raise ValueError("staged() needs targets in one folder")
    refuse_existing(paths, overwrite)
    stage = _make_stage(paths[0])
    try:
        staging = [stage / path.name for path in paths]
        yield staging
        for tmp in staging:
            _sync(tmp)
        refuse_existing(paths, overwrite)  # something may have appeared in the meantime
        for tmp, target in zip(staging, paths, strict=True):
            _move_into_place(tmp, target, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _make_stage(first: Path) -> Path:
    parent = first.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{first.name}.", suffix=".partial", dir=parent))
    except OSError as error:
        raise ExportError(f"{first}: cannot write in {parent} ({error.strerror or error}); "
                          "choose a folder you can write to.") from None


def _sync(path: Path) -> None:
    """Flush everything written to disk, so a crash after the rename finds whole files."""
    if not os.path.lexists(path):
        raise ExportError(f"{path.name}: the export wrote nothing.")
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())


def _move_into_place(tmp: Path, target: Path, stage: Path) -> None:
    try:
        if os.path.lexists(target) and (tmp.is_dir() or target.is_dir()):
            # A folder cannot be renamed over: move the old one aside (into the stage, which
            # is deleted afterwards), and back if the new one cannot take its place.
            aside = stage / ".replaced"
            os.replace(target, aside)
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(aside, target)
                raise
        else:
            os.replace(tmp, target)
    except OSError as error:
        raise ExportError(f"{target}: could not move the export into place "
                          f"({error.strerror or error}).") from None
