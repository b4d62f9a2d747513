"""Collection runs on the UI thread only, and returns only when the last worker has ended."""

from __future__ import annotations

import gc
import threading

from studio.workers.collection_pause import (
    COLLECTION_INTERVAL_MS,
    CollectionTimer,
    pause_collection,
    paused,
    resume_collection,
)


def test_collection_resumes_after_the_last_holder():
    assert gc.isenabled() and not paused()
    pause_collection()  # a training
    pause_collection()  # an evaluation beside it
    assert not gc.isenabled()
    resume_collection()  # the training ends first
    assert not gc.isenabled(), "the evaluation's thread still runs TensorFlow"
    resume_collection()
    assert gc.isenabled() and not paused()
    resume_collection()  # one too many is harmless
    assert gc.isenabled()


def test_collection_stays_off_when_it_was_off():
    gc.disable()
    try:
        pause_collection()
        resume_collection()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _make_cycles(count):
    for _ in range(count):
        cycle = []
        cycle.append(cycle)


def test_a_window_collects_on_its_own_thread_only(qtbot):
    """Garbage made on a worker thread is collected by the UI thread's timer, never by the
    worker (which could destroy Qt objects off the UI thread)."""
    collecting_threads = []

    def record(phase, info):
        if phase == "start":
            collecting_threads.append(threading.get_ident())

    collector = CollectionTimer()
    gc.callbacks.append(record)
    try:
        assert not gc.isenabled()
        worker = threading.Thread(target=_make_cycles, args=(20 * gc.get_threshold()[0],))
        worker.start()
        worker.join()
        assert collecting_threads == [], "the worker thread collected"
        qtbot.waitUntil(lambda: bool(collecting_threads), timeout=5000)
        assert set(collecting_threads) == {threading.get_ident()}
    finally:
        gc.callbacks.remove(record)
        collector.stop()
    assert gc.isenabled()
    collector.stop()  # twice is harmless
    assert gc.isenabled()


def test_the_timer_does_not_collect_while_a_worker_runs(qtbot):
    collections = []
    collector = CollectionTimer()
    pause_collection()
    gc.callbacks.append(lambda phase, info: collections.append(phase))
    try:
        _make_cycles(20 * gc.get_threshold()[0])
        qtbot.wait(3 * COLLECTION_INTERVAL_MS)
        assert collections == []
    finally:
        resume_collection()
        gc.callbacks.pop()
        collector.stop()
    assert collections, "the last worker's end collects"
    assert gc.isenabled()
