"""The download runner reports progress, ends with the right signal, and cancels promptly.

The network part (chunks, hashes, atomic files) is tested for real against a local server in
tests/ml/test_keras_datasets.py; here the download function is replaced through its module
so that the thread, signal and cancel plumbing can be driven precisely.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from studio.core.errors import DatasetError
from studio.ml import keras_datasets
from studio.workers.download_runner import DownloadRunner


@pytest.fixture
def runner(qtbot):
    runner = DownloadRunner()
    yield runner
    runner.cancel_and_wait()


def test_progress_then_finished(runner, qtbot, monkeypatch):
    def fake(name, progress, cancelled, **_):
        for done in range(0, 1001, 250):
            progress(done, 1000)
            time.sleep(0.12)

    monkeypatch.setattr(keras_datasets, "download_keras_dataset", fake)
    seen = []
    runner.progress.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(runner.finished, timeout=10000) as finished:
        assert runner.start("mnist")
        assert not runner.start("mnist"), "one download at a time"
    assert finished.args == ["mnist"]
    assert seen[-1] == (1000, 1000) and len(seen) >= 3
    assert not runner.running


def test_cancel_stops_within_a_chunk(runner, qtbot, monkeypatch):
    def fake(name, progress, cancelled, **_):
        while not cancelled():
            progress(1, None)
            time.sleep(0.01)
        raise keras_datasets.DownloadCancelled("cancelled")

    monkeypatch.setattr(keras_datasets, "download_keras_dataset", fake)
    with qtbot.waitSignal(runner.progress, timeout=10000):
        runner.start("cifar10")
    started = time.perf_counter()
    with qtbot.waitSignal(runner.cancelled, timeout=10000):
        runner.cancel()
    assert time.perf_counter() - started < 2.0


def test_failure_message_reaches_the_ui(runner, qtbot, monkeypatch):
    def fake(name, progress, cancelled, **_):
        raise DatasetError("offline: fetch it by hand")

    monkeypatch.setattr(keras_datasets, "download_keras_dataset", fake)
    with qtbot.waitSignal(runner.failed, timeout=10000) as failed:
        runner.start("mnist")
    assert failed.args == ["offline: fetch it by hand"]


def test_the_thread_has_ended_before_the_runner_says_finished(runner, qtbot, monkeypatch):
    """The QThread is deleted once the runner reports: it must have ended by then, even when
    its last moments (deleting its worker) are slow. (Qt 6's isFinished is already true
    while the thread is ending, so the test compares times.)"""
    monkeypatch.setattr(keras_datasets, "download_keras_dataset",
                        lambda *_, **__: time.sleep(0.3))  # time to connect below
    thread_done, reported = [], []

    def slow_ending():
        time.sleep(0.5)
        thread_done.append(time.monotonic())

    runner.finished.connect(lambda _name: reported.append(time.monotonic()))
    assert runner.start("mnist")
    # Runs on the ending thread itself, after its event loop has stopped.
    runner._thread.finished.connect(slow_ending, Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: bool(reported), timeout=10000)
    assert thread_done and reported[0] >= thread_done[0]
