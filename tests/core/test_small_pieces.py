"""Atomic writes, history CSV, the training control and summary formatting."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest

from studio.core.atomic import atomic_path, atomic_write_text
from studio.core.control import TrainingControl
from studio.core.history import history_csv, metric_columns
from studio.core.summary import format_shape


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_path_keeps_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".keras"
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_history_csv_has_one_row_per_epoch_and_one_column_per_metric():
    rows = [{"val_loss": 0.5, "accuracy": 0.8, "loss": 0.6, "val_accuracy": 0.7},
            {"val_loss": 0.4, "accuracy": 0.9, "loss": 0.3, "val_accuracy": 0.8}]
    parsed = list(csv.DictReader(io.StringIO(history_csv(rows))))
    assert list(parsed[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [r["epoch"] for r in parsed] == ["1", "2"]
    assert float(parsed[1]["loss"]) == 0.3
    assert metric_columns([{"mae": 1.0, "loss": 2.0}]) == ["loss", "mae"]


def test_stop_releases_a_paused_training():
    control = TrainingControl()
    control.pause()
    released = threading.Event()

    def training_thread():
        control.wait_while_paused()
        released.set()

    thread = threading.Thread(target=training_thread)
    thread.start()
    time.sleep(0.05)
    assert not released.is_set(), "pause did not hold the thread"
    control.request_stop()
    thread.join(2)
    assert released.is_set() and control.stop_requested
    control.pause()
    assert not control.paused, "a stopped training must not pause again"


def test_format_shape():
    assert format_shape((10,)) == "(10,)"
    assert format_shape((8, 8, None)) == "(8, 8, ?)"
    assert format_shape(None) == "—"


def test_atomic_write_keeps_the_file_permissions(tmp_path):
    import os
    import stat

    target = tmp_path / "shared.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    fresh = tmp_path / "fresh.json"
    atomic_write_text(fresh, "x")
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o044, "new files are not private (0600)"


def test_which_way_a_metric_improves():
    from studio.core.training_config import higher_is_better

    assert all(map(higher_is_better, ["val_accuracy", "val_auc", "val_f1", "val_r2",
                                      "precision"]))
    assert not any(map(higher_is_better, ["val_loss", "mae", "val_rmse", "loss"]))
