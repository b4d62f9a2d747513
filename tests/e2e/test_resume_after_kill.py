"""A headless run killed with SIGKILL mid-epoch resumes: no epoch lost, none counted twice.

Its epochs are short (0.2 s), so its safety files are written every few seconds rather than
every epoch (``studio.ml.safety_files``), and its history once a second: the kill comes after
epochs that the history has and the backup has not, which the resumed run trains again, once.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

from studio.core.defaults import default_project_path
from studio.core.run_record import read_run, resumable_epochs

EPOCHS = 80


def _rows(path):
    try:
        with open(path, newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []


def test_sigkill_mid_epoch_then_the_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "studio", "train", str(default_project_path()),
               "--epochs", str(EPOCHS), "--output", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    # Until the history (written at most once a second) has epochs the backup has not.
    while (not resumable_epochs(out) or len(_rows(out / "history.csv")) < 3
           or len(_rows(out / "history.csv")) <= (resumable_epochs(out) or 0)) \
            and time.monotonic() < deadline:
        assert first.poll() is None, first.stderr.read().decode()[-2000:]
        time.sleep(0.02)
    # At once: epochs follow each other, so this is mid-epoch; waiting longer would let a
    # backup (which brings the history only up to its own epoch) land before the kill.
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    first.stdout.close()
    first.stderr.close()
    killed_after = resumable_epochs(out)
    assert killed_after is not None and 1 <= killed_after < len(_rows(out / "history.csv"))
    record = read_run(out)
    assert record is not None and record.status == "running" and record.interrupted

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming the interrupted run in {out} after epoch {killed_after}" in done.stdout
    epoch_lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert sum("(restored)" in line for line in epoch_lines) == killed_after
    rows = _rows(out / "history.csv")
    assert [row["epoch"] for row in rows] == [str(e) for e in range(1, EPOCHS + 1)]
    losses = [float(row["loss"]) for row in rows]
    assert losses[-1] < losses[0], "training continued from the restored weights"
    record = read_run(out)
    assert record.status == "finished" and record.epochs_completed == EPOCHS
    assert (out / "model.keras").is_file() and (out / "checkpoints" / "best.keras").is_file()
    assert not (out / "backup").exists(), "the backup is removed once the run is complete"
    assert json.loads((out / "run.json").read_text())["project"]["name"] == "Digits CNN"
