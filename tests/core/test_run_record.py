"""Run records listed from a folder: newest first, and read again only when they change."""

from __future__ import annotations

import os

from studio.core import run_record
from studio.core.run_record import RunCatalog, RunRecord, list_runs, write_run


def _run(root, name, started):
    folder = root / name
    folder.mkdir(parents=True)
    write_run(folder, RunRecord(name, started, {}, epochs=3))
    return folder


def test_runs_are_listed_newest_first_and_other_folders_ignored(tmp_path):
    _run(tmp_path, "old", 100.0)
    _run(tmp_path, "new", 200.0)
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "stray.txt").write_text("x")
    assert [record.name for _, record in list_runs(tmp_path)] == ["new", "old"]
    assert list_runs(tmp_path / "missing") == []


def test_the_catalog_reads_a_record_again_only_when_it_changed(tmp_path, monkeypatch):
    first = _run(tmp_path, "a", 100.0)
    _run(tmp_path, "b", 200.0)
    catalog = RunCatalog()
    reads = []
    real = run_record.read_run
    monkeypatch.setattr(run_record, "read_run", lambda folder: reads.append(folder.name)
                        or real(folder))
    assert len(catalog.runs(tmp_path)) == 2 and sorted(reads) == ["a", "b"]
    reads.clear()
    assert len(catalog.runs(tmp_path)) == 2 and reads == []

    record = run_record.read_run(first)
    write_run(first, record.with_progress(2, {"val_loss": 0.5}))
    stamp = (first / run_record.RUN_FILE).stat().st_mtime_ns + 1_000_000
    os.utime(first / run_record.RUN_FILE, ns=(stamp, stamp))  # a coarse clock cannot hide it
    reads.clear()
    runs = dict((folder.name, r) for folder, r in catalog.runs(tmp_path))
    assert reads == ["a"] and runs["a"].epochs_completed == 2

    _run(tmp_path, "c", 300.0)
    (first / run_record.RUN_FILE).unlink()
    reads.clear()
    assert [r.name for _, r in catalog.runs(tmp_path)] == ["c", "b"] and reads == ["c"]
