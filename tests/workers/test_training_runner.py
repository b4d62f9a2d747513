"""The QThread runner: signals cross threads, finished comes after the thread ended."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from PySide6.QtCore import QThread

from studio.core.defaults import default_project
from studio.core.events import BatchEnded, EpochEnded, TrainingStarted
from studio.core.project import Project
from studio.core.training_config import TrainingConfig
from studio.ml import training_process
from studio.workers import training_runner
from studio.workers.training_runner import TrainingRunner


def _quick(epochs=2):
    project = default_project()
    return replace(project, training=replace(project.training, epochs=epochs, batch_size=64))


def test_events_arrive_on_the_gui_thread_and_thread_is_gone_after_finished(qtbot):
    runner = TrainingRunner()
    events, threads = [], []

    def on_event(event):
        events.append(event)
        threads.append(QThread.currentThread())

    runner.training_event.connect(on_event)
    with qtbot.waitSignal(runner.finished, timeout=60000) as finished:
        runner.start(_quick())
        assert runner.running
    assert not runner.running
    assert isinstance(events[0], TrainingStarted)
    assert sum(isinstance(e, EpochEnded) for e in events) == 2
    assert all(t is QThread.currentThread() for t in threads), "events must be queued to GUI"
    assert finished.args[0].epochs_completed == 2


def test_stop_keeps_the_partly_trained_model_and_a_new_run_works(qtbot):
    runner = TrainingRunner()

    def stop_on_first_batch(event):
        if isinstance(event, BatchEnded):
            runner.stop()

    runner.training_event.connect(stop_on_first_batch)
    with qtbot.waitSignal(runner.finished, timeout=60000) as finished:
        runner.start(_quick(epochs=200))
    result = finished.args[0]
    assert result.stopped_early and result.epochs_completed < 200
    assert result.model.count_params() > 0
    runner.training_event.disconnect(stop_on_first_batch)
    with qtbot.waitSignal(runner.finished, timeout=60000) as again:
        runner.start(_quick(epochs=1))
    assert again.args[0].epochs_completed == 1


def test_user_errors_fail_cleanly_without_traceback(qtbot):
    bad = Project(model=replace(default_project().model, layers=()),
                  training=TrainingConfig(epochs=1))
    runner = TrainingRunner()
    with qtbot.waitSignal(runner.failed, timeout=60000) as failed:
        runner.start(bad)
    message, details = failed.args
    assert "no layers" in message and details == ""
    assert not runner.running


def test_stop_and_wait_while_paused_returns(qtbot):
    runner = TrainingRunner()
    paused = []

    def pause_once(event):
        if isinstance(event, BatchEnded) and not paused:
            paused.append(True)
            runner.pause()

    runner.training_event.connect(pause_once)
    runner.start(_quick(epochs=100))
    qtbot.waitUntil(lambda: bool(paused), timeout=60000)
    assert runner.paused
    runner.stop_and_wait()  # must not hang on the paused thread
    assert not runner.running


def test_garbage_is_collected_only_when_no_training_runs(qtbot):
    import gc

    runner = TrainingRunner()
    seen = []
    runner.training_event.connect(lambda event: seen.append(gc.isenabled()))
    assert gc.isenabled()
    with qtbot.waitSignal(runner.finished, timeout=60000):
        runner.start(_quick(1))
    assert seen and not any(seen), "no automatic collection while TensorFlow traces"
    assert gc.isenabled()


def _exit_at_once(*_args):
    """A training child that dies before it reports anything (a broken installation)."""
    os._exit(7)


@pytest.mark.skipif(not training_runner.SEPARATE_PROCESS, reason="no training processes here")
@pytest.mark.parametrize("failure", ["fork server", "child"])
def test_without_a_training_process_runs_train_on_the_thread_and_say_why(
        qtbot, monkeypatch, failure):
    monkeypatch.setattr(training_runner, "_process_failure", None)
    asked = []

    def take(memory_policy, threads=None):
        asked.append(memory_policy)
        if failure == "fork server":
            raise OSError("the fork server did not start")
        return training_process.TrainingProcess(memory_policy, threads, target=_exit_at_once)

    monkeypatch.setattr(training_process, "take", take)
    monkeypatch.setattr(training_process, "prepare_spare", lambda *_settings: None)
    runner = TrainingRunner()
    for run in range(2):
        started = []
        runner.training_event.connect(
            lambda event, started=started: started.append(event)
            if isinstance(event, TrainingStarted) else None)
        with qtbot.waitSignal(runner.finished, timeout=60000) as finished:
            runner.start(_quick(epochs=1))
        assert finished.args[0].epochs_completed == 1, f"run {run + 1}"
        [note] = started[0].device_notes
        reason = ("OSError: the fork server did not start" if failure == "fork server"
                  else "it ended at once, with exit code 7")
        assert "window's own process" in note and reason in note, note
    assert len(asked) == 1, "after a failure, later runs go straight to the thread"
