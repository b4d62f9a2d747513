"""Two real worker processes on localhost with --strategy multiworker (the custom loop).

Bounded in time: every worker is killed when a test ends, whatever happened.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from studio.core.defaults import default_project_path
from studio.core.run_record import resumable_epochs

TIMEOUT = 240


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _rows(path):
    try:
        with open(path, newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []


@pytest.fixture
def cluster(tmp_path):
    """Start workers with ``start(index, *extra_args)``; all are killed at the end."""
    started = []
    ports = _free_ports(2)
    addresses = ",".join(f"localhost:{p}" for p in ports)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def start(index, *extra, epochs=2, output=None, project=None):
        command = [sys.executable, "-m", "studio", "train",
                   str(project or default_project_path()),
                   "--epochs", str(epochs), "--output", str(output or tmp_path / "run"),
                   "--strategy", "multiworker", "--cluster", addresses,
                   "--task-index", str(index), "--worker-timeout", "30", *extra]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env={**os.environ, "TMPDIR": str(scratch)})
        started.append(process)
        return process

    start.scratch = scratch
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _finish(process):
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out, err


def _digest(stdout):
    found = re.search(r"final weights sha256 (\w+)", stdout)
    assert found, stdout
    return found[1]


def test_two_workers_train_the_same_model_and_only_the_chief_writes(cluster, tmp_path):
    project = json.loads(default_project_path().read_text())
    # Batch normalisation (per-replica statistics) and early stopping on a scikit-learn
    # metric: both must end the same on every worker.
    project["model"]["layers"].insert(1, {"type": "BatchNormalization", "params": {}})
    project["training"].update(metrics=["precision"], tensorboard=True, early_stopping=True,
                               monitor="val_precision", patience=5)
    path = tmp_path / "project.json"
    path.write_text(json.dumps(project))
    chief, worker = cluster(0, epochs=3, project=path), cluster(1, epochs=3, project=path)
    (code0, out0, err0), (code1, out1, err1) = _finish(chief), _finish(worker)
    assert code0 == 0, err0[-3000:]
    assert code1 == 0, err1[-3000:]
    assert "global batch 32 = 2 replicas x 16" in out0
    assert _digest(out0) == _digest(out1), "both workers end with identical weights"
    rows = _rows(tmp_path / "run" / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert 0 < float(rows[-1]["val_precision"]) <= 1, "scikit-learn metrics as with fit"
    assert any((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))
    assert "the chief wrote the run" in out1
    left = [p.name for p in cluster.scratch.iterdir() if p.name.startswith("studio-")]
    assert left == [], "the worker removed its temporary folder"
    events = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in events].count("epoch") == 3

    import keras
    import numpy as np

    from studio.ml.custom_loop import weights_digest

    model = keras.saving.load_model(tmp_path / "run" / "model.keras", safe_mode=True)
    assert weights_digest(model) == _digest(out0)
    assert model.predict(np.zeros((1, 8, 8, 1)), verbose=0).shape == (1, 10)


def _wait_for_a_saved_epoch(run, process):
    """Until the chief has backed up an epoch (``process`` must still run meanwhile)."""
    deadline = time.monotonic() + TIMEOUT
    while (resumable_epochs(run) or 0) < 1 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)


def test_a_killed_worker_stops_the_other_and_a_rerun_resumes(cluster, tmp_path):
    run = tmp_path / "run"
    chief, worker = cluster(0, epochs=4), cluster(1, epochs=4)
    _wait_for_a_saved_epoch(run, chief)
    time.sleep(0.5)  # into the next epoch
    os.kill(worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    code, _out, err = _finish(chief)
    assert time.monotonic() - killed < 30 + 15, "the chief gave up within the timeout"
    assert code == 1
    assert "stopped answering" in err and "run the same command on every worker" in err
    done_before = len(_rows(run / "history.csv"))

    chief, worker = cluster(0, epochs=4), cluster(1, epochs=4)
    (code0, out0, err0), (code1, _out1, err1) = _finish(chief), _finish(worker)
    assert code0 == 0, err0[-3000:]
    assert code1 == 0, err1[-3000:]
    assert "resuming the interrupted run" in out0
    rows = _rows(run / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"], "no epoch lost or repeated"
    assert done_before >= 1


def test_when_the_chief_dies_the_worker_stops_within_the_timeout(cluster, tmp_path):
    run = tmp_path / "run"
    chief, worker = cluster(0, epochs=4), cluster(1, epochs=4)
    _wait_for_a_saved_epoch(run, worker)
    os.kill(chief.pid, signal.SIGKILL)
    killed = time.monotonic()
    code, _out, err = _finish(worker)
    assert time.monotonic() - killed < 30 + 15
    assert code == 1 and "stopped answering" in err
    left = [p.name for p in cluster.scratch.iterdir() if p.name.startswith("studio-")]
    assert left == [], "the worker removed its temporary folder even so"


def test_workers_with_different_projects_refuse_to_train(cluster):
    chief, worker = cluster(0, epochs=2), cluster(1, epochs=3)
    for code, _out, err in (_finish(chief), _finish(worker)):
        assert code == 2, err[-3000:]
        assert "different projects or options" in err


def test_workers_whose_data_differs_refuse_to_train(cluster, tmp_path):
    """The same project file beside different CSV files: the data check stops both."""
    from dataclasses import replace

    from studio.core.csv_table import CsvImportSettings
    from studio.core.dataset_catalog import DatasetInfo
    from studio.core.dataset_spec import CsvSource, DatasetSpec
    from studio.core.defaults import default_project
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.core.project import save_project

    paths = []
    for name, flip in (("a", 0), ("b", 1)):
        folder = tmp_path / name
        (folder / "data").mkdir(parents=True)
        rows = ["width,size"] + [f"{i % 9 + 1},{'big' if (i % 9 > 4) != flip else 'small'}"
                                 for i in range(90)]
        (folder / "data" / "things.csv").write_text("\n".join(rows) + "\n")
        recorded = DatasetInfo("things", "things.csv", "classification", (1,), 2, 90, "",
                               ("big", "small"))
        project = replace(
            default_project(),
            dataset=DatasetSpec(CsvSource(folder / "data" / "things.csv",
                                          CsvImportSettings("size"), recorded)),
            model=ModelSpec((LayerSpec.create("Dense", units=4),
                             LayerSpec.create("Dense", units=2, activation="softmax"))))
        save_project(project, folder / "things.json")
        paths.append(folder / "things.json")
    assert paths[0].read_text() == paths[1].read_text()
    chief = cluster(0, project=paths[0], output=tmp_path / "a" / "run")
    worker = cluster(1, project=paths[1], output=tmp_path / "b" / "run")
    for code, _out, err in (_finish(chief), _finish(worker)):
        assert code == 2, err[-3000:]
        assert "the workers loaded different data" in err


def test_a_worker_alone_gives_up_after_the_timeout(tmp_path):
    port = _free_ports(2)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "studio", "train", str(default_project_path()), "--output",
         str(tmp_path / "run"), "--strategy", "multiworker", "--cluster",
         f"localhost:{port[0]},localhost:{port[1]}", "--task-index", "0",
         "--worker-timeout", "5"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0  # (ended with SIGKILL: TensorFlow holds the process)
    assert "not every worker joined within 5 s" in done.stderr
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(("args", "environ", "words"), [
    (["--cluster", "localhost:1,localhost:2", "--task-index", "2"], {}, "out of range"),
    (["--cluster", "localhost"], {}, "is not host:port"),
    ([], {"TF_CONFIG": "{not json"}, "TF_CONFIG is not valid JSON"),
    ([], {"TF_CONFIG": ""}, "needs the cluster"),
])
def test_bad_clusters_exit_2_with_one_line(args, environ, words, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "studio", "train", str(default_project_path()), "--output",
         str(tmp_path / "run"), "--strategy", "multiworker", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **environ})
    assert done.returncode == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_refused(tmp_path):
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "studio", "train", str(default_project_path()), "--output",
             str(tmp_path / "run"), "--strategy", "multiworker", "--cluster",
             f"localhost:{port},localhost:1", "--task-index", "0"],
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"port {port}" in done.stderr and "already in use" in done.stderr
