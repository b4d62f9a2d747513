"""A training run on disk: what was trained, how it went, and whether it can be resumed.

Each run has its own folder holding ``run.json`` (this record), ``history.csv`` (one row per
finished epoch), checkpoints, the Keras backup used to resume, and the final model. The record
is rewritten atomically at the start, at most once a second with its progress, and at the
end, so a run killed at any moment leaves a readable record whose status still says
"running": that is how the next launch (or ``studio train --output`` on the same folder)
knows it was interrupted.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from studio.core.atomic import atomic_write_text

RUN_FILE = "run.json"
HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"
CHECKPOINT_DIR = "checkpoints"
MODEL_FILE = "model.keras"

Status = Literal["running", "finished", "stopped", "diverged", "failed"]


@dataclass(frozen=True)
class RunRecord:
    name: str
    started: float
    project: Mapping[str, Any]  # the project as trained (its to_dict)
    status: Status = "running"
    epochs: int = 0  # planned
    epochs_completed: int = 0
    last_metrics: Mapping[str, float] = field(default_factory=dict)
    test_metrics: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    finished: float | None = None

    def with_progress(self, epochs_completed: int, last: Mapping[str, float],
                      epochs: int | None = None) -> RunRecord:
        return replace(self, epochs_completed=epochs_completed, last_metrics=dict(last),
                       epochs=epochs or self.epochs)

    def ended(self, status: Status, reason: str = "",
              test_metrics: Mapping[str, float] | None = None) -> RunRecord:
        return replace(self, status=status, reason=reason, finished=time.time(),
                       test_metrics=dict(test_metrics or {}))

    @property
    def interrupted(self) -> bool:
        """Still marked running, but its process is gone: killed, crashed or powered off."""
        if self.status != "running":
            return False
        if self.host != socket.gethostname():
            return False  # another machine's run: cannot tell, so never claim it
        return not _process_alive(self.pid)


def write_run(folder: Path, record: RunRecord) -> None:
    atomic_write_text(folder / RUN_FILE, json.dumps(asdict(record), indent=2) + "\n")


def read_run(folder: Path) -> RunRecord | None:
    """The record in ``folder``, or None when there is none or it cannot be read."""
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def list_runs(root: Path) -> list[tuple[Path, RunRecord]]:
    """Every run under ``root``, newest first."""
    return RunCatalog().runs(root)


class RunCatalog:
    """The runs under a folder, listed again and again (the Runs tab, after every training):
    a record is read again only when its file changed, since reading hundreds of them each
    time froze the window."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, ...], RunRecord | None]] = {}

    def runs(self, root: Path) -> list[tuple[Path, RunRecord]]:
        """Every run under ``root``, newest first."""
        known: dict[Path, tuple[tuple[int, ...], RunRecord | None]] = {}
        for folder in root.iterdir() if root.is_dir() else ():
            try:
                status = (folder / RUN_FILE).stat()
            except OSError:
                continue  # not a run folder (or not one any more)
            # Rewritten by replacement: a new file (inode) even where the clock is coarse.
            key = (status.st_ino, status.st_mtime_ns, status.st_ctime_ns, status.st_size)
            cached = self._known.get(folder)
            known[folder] = cached if cached and cached[0] == key else (key, read_run(folder))
        self._known = known
        runs = [(folder, record) for folder, (_, record) in known.items() if record is not None]
        return sorted(runs, key=lambda item: item[1].started, reverse=True)


def new_run_folder(root: Path, name: str, now: float | None = None) -> Path:
    """A fresh folder such as ``2026-11-23_13-40-05_digits-cnn`` (never an existing one)."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now or time.time()))
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "run"
    folder = root / f"{stamp}_{slug}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = root / f"{stamp}_{slug}-{suffix}"
    folder.mkdir(parents=True)
    return folder


def read_history(folder: Path) -> list[dict[str, float]]:
    """The finished epochs' rows of ``history.csv`` (empty when there is none)."""
    try:
        with open(folder / HISTORY_FILE, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return []
    history = []
    for row in rows:
        history.append({key: float(value) for key, value in row.items()
                        if key != "epoch" and value not in ("", None)})
    return history


def resumable_epochs(folder: Path) -> int | None:
    """Epochs the Keras backup in ``folder`` holds, or None when there is nothing to resume."""
    try:
        data = json.loads((folder / BACKUP_DIR / "training_metadata.json").read_text())
        epoch = data["epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return epoch if isinstance(epoch, int) and epoch > 0 else None


def history_to_resume(folder: Path) -> list[dict[str, float]]:
    """The curve so far, cut to the epochs the backup holds (a row may have been written
    just before the process died, without its backup): no epoch is lost or counted twice."""
    epochs = resumable_epochs(folder)
    return read_history(folder)[:epochs] if epochs else []


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def format_metrics(metrics: Mapping[str, float], keys: Sequence[str] = ()) -> str:
    chosen = keys or list(metrics)
    return ", ".join(f"{key} {metrics[key]:.4g}" for key in chosen if key in metrics)
