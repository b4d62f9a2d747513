"""Scale-out: samples per second on one device, on two logical CPU devices with
MirroredStrategy, and on two localhost workers with MultiWorkerMirroredStrategy; and the cost
of the live event file (events.jsonl) on single-machine training.

Throughput comes from real ``studio train`` runs of the default project (digits CNN, global
batch 32), read from each run's own events.jsonl: training samples times epochs 2..N over the
seconds those epochs took (the first epoch traces the model). On this 2-core machine both
workers share the same two cores, so the multi-worker row shows the loop's overhead, not a
speed-up; on real machines each worker brings its own devices.

The event file's cost is the time spent inside its writer during an in-process training run,
as a share of that run's training time: exact, where comparing two noisy runs could not
resolve one percent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EPOCHS = 4
GOAL_EVENT_OVERHEAD = 0.01


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _throughput(run: Path) -> float:
    epochs, samples = [], 0
    for line in (run / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "started":
            samples = event["train_samples"]
        elif event["type"] == "epoch":
            epochs.append(event["seconds"])
    timed = epochs[1:]
    return samples * len(timed) / sum(timed)


def _train(out: Path, *extra: str, index: int | None = None) -> subprocess.Popen[bytes]:
    from studio.core.defaults import default_project_path

    command = [sys.executable, "-m", "studio", "train", str(default_project_path()),
               "--epochs", str(EPOCHS), "--output", str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        _out, err = process.communicate(timeout=900)
        if process.returncode != 0:
            raise RuntimeError(err.decode()[-2000:])


def measure_throughput(root: Path) -> dict[str, float]:
    rates = {}
    _wait(_train(root / "one", "--strategy", "cpu"))
    rates["1 device"] = _throughput(root / "one")
    _wait(_train(root / "mirrored", "--strategy", "mirrored", "--cpu-devices", "2"))
    rates["2 logical CPU devices, MirroredStrategy"] = _throughput(root / "mirrored")
    ports = _free_ports(2)
    cluster = ",".join(f"localhost:{p}" for p in ports)
    workers = [_train(root / "workers", "--strategy", "multiworker", "--cluster", cluster,
                      "--task-index", str(i)) for i in (1, 0)]
    _wait(*workers)
    rates["2 localhost workers, MultiWorkerMirroredStrategy"] = _throughput(root / "workers")
    return rates


def measure_event_overhead(root: Path) -> tuple[float, int]:
    """(share of training time spent writing events, events written)."""
    from studio.core.defaults import default_project
    from studio.core.run_events import EventFileWriter
    from studio.ml import session

    spent = [0.0, 0]

    class TimedWriter(EventFileWriter):
        def __call__(self, event: object) -> None:
            start = time.perf_counter()
            super().__call__(event)  # type: ignore[arg-type]
            spent[0] += time.perf_counter() - start
            spent[1] += 1

    project = default_project()
    from dataclasses import replace

    project = replace(project, training=replace(project.training, epochs=EPOCHS))
    original = session.EventFileWriter
    session.EventFileWriter = TimedWriter  # type: ignore[misc]
    try:
        start = time.perf_counter()
        session.train_project(project, lambda event: None, run_dir=root / "timed")
        total = time.perf_counter() - start
    finally:
        session.EventFileWriter = original  # type: ignore[misc]
    lines = len((root / "timed" / "events.jsonl").read_text().splitlines())
    return spent[0] / total, lines


def run() -> list[tuple[str, str, str, str]]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rates = measure_throughput(root)
        share, lines = measure_event_overhead(root)
    rows = [(f"scale-out: {name}", f"{rate:,.0f} samples/s", "(reported)",
             "default project, epochs 2-4") for name, rate in rates.items()]
    verdict = "met" if share < GOAL_EVENT_OVERHEAD else "MISSED"
    rows.append(("scale-out: events.jsonl cost on training", f"{share:.3%} ({lines} lines)",
                 f"< {GOAL_EVENT_OVERHEAD:.0%}", verdict))
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
