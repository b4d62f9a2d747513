"""The batch search's runner: signals reach the GUI thread, results come after the thread ended."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QThread

from studio.core.dataset_spec import DatasetSpec, GeneratedSource
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.project import Project
from studio.workers.batch_probe_runner import BatchProbeRunner

TIMEOUT_MS = 60000


def _project():
    model = ModelSpec((LayerSpec.create("Dense", units=8, activation="relu"),
                       LayerSpec.create("Dense", units=2, activation="softmax")))
    return Project(name="probe", model=model,
                   dataset=DatasetSpec(GeneratedSource("circles", samples=100), seed=1))


def _out_of_memory_above(limit):
    def step(model, x, y):
        if len(x) > limit:
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return model.train_on_batch(x, y)
    return step


@pytest.fixture
def make_runner(qtbot):
    runners = []

    def make(**settings):
        runners.append(BatchProbeRunner(steps=1, **settings))
        return runners[-1]
    yield make
    for runner in runners:
        runner.cancel_and_wait()


def test_progress_on_the_gui_thread_and_the_thread_is_gone_at_finished(make_runner, qtbot):
    runner = make_runner(max_batch=32)
    progress, threads, policies = [], [], []

    def on_progress(done, total, text):
        progress.append((done, total, text))
        threads.append(QThread.currentThread())

    runner.progress.connect(on_progress)
    runner.memory_policy_applied.connect(policies.append)
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
        assert runner.start(_project())
        assert runner.running
        assert not runner.start(_project()), "one search at a time"
    assert not runner.running
    result = finished.args[0]
    assert [t.batch_size for t in result.trials] == [16, 32]
    assert all(t.fits for t in result.trials)
    assert [p[:2] for p in progress] == [(0, 2), (1, 2), (2, 2)]
    assert all(t is QThread.currentThread() for t in threads), "progress must be queued"
    assert policies == [[]], "the memory policy is applied first (no GPU here)"


def test_an_injected_out_of_memory_reaches_the_result(make_runner, qtbot):
    runner = make_runner(train_step=_out_of_memory_above(16))
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
        runner.start(_project())
    result = finished.args[0]
    assert result.largest_fit == 16
    assert [(t.batch_size, t.fits) for t in result.trials] == [(16, True), (32, False)]


def test_cancel_and_wait_ends_the_thread_and_reports_a_cancelled_result(make_runner, qtbot):
    runner = make_runner()
    results = []
    runner.finished.connect(results.append)
    with qtbot.waitSignal(runner.progress, timeout=TIMEOUT_MS):
        runner.start(_project())
    runner.cancel_and_wait()
    assert not runner.running
    assert len(results) == 1 and results[0].cancelled
    assert len(results[0].trials) < 4


def test_a_user_error_fails_without_a_traceback(make_runner, qtbot):
    runner = make_runner()
    bad = replace(_project(), model=ModelSpec((
        LayerSpec.create("Conv2D", filters=4, kernel_size=3),
        LayerSpec.create("Dense", units=2, activation="softmax"))))
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.start(bad)
    message, details = failed.args
    assert message and details == ""
    assert not runner.running


def test_an_unexpected_error_fails_with_its_traceback(make_runner, qtbot):
    def broken(model, x, y):
        raise RuntimeError("boom")

    runner = make_runner(train_step=broken)
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.start(_project())
    message, details = failed.args
    assert message == "The batch size search failed: RuntimeError: boom"
    assert "Traceback" in details and "boom" in details
