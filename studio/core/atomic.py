"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Each write goes to a temporary file in the destination's folder (same file system, so the
final ``os.replace`` is atomic), is flushed to disk, and only then replaces the target.
If anything fails before the replace, the previous file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    The temporary name keeps the target's suffix, because some writers (Keras) insist on it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f"{target.suffix}.tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line endings) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def atomic_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Copy ``source``'s bytes to ``target`` atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0666 less the umask.

    (mkstemp creates 0600 files, which would silently make a shared project private.)
    """
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    """The process umask, read once at import: reading it means setting it, which must not
    happen while other threads create files."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _read_umask()
