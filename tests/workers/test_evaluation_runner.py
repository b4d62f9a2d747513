"""The evaluation runner: results on the GUI thread, after its thread has ended."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QThread

from studio.core.dataset_spec import BuiltinSource, DatasetSpec
from studio.core.defaults import default_project
from studio.core.evaluation import EvaluationReport
from studio.workers.evaluation_runner import EvaluationRunner

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def project():
    project = default_project()
    return replace(project, dataset=replace(project.dataset, test_split=0.2))


@pytest.fixture(scope="module")
def model(project):
    from studio.ml.summary import build_model

    return build_model(project.model, project.dataset.info, seed=3)  # uncompiled, untrained


@pytest.fixture
def runner(qtbot):
    runner = EvaluationRunner()
    yield runner
    runner.cancel_and_wait()


def test_a_project_is_evaluated_off_the_gui_thread(runner, qtbot, project, model):
    threads, stages = [], []
    runner.progress.connect(lambda stage: (stages.append(stage),
                                           threads.append(QThread.currentThread())))
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
        assert runner.start(model, project)
        assert runner.running
        assert not runner.start(model, project), "one evaluation at a time"
    assert not runner.running
    report = finished.args[0]
    assert isinstance(report, EvaluationReport)
    evaluation = report.evaluation
    assert evaluation.split == "test" and evaluation.samples == round(1797 * 0.2)
    assert sum(map(sum, evaluation.classification.confusion)) == evaluation.samples
    assert report.gallery.count == evaluation.samples and report.gallery.as_read
    assert "Evaluating" in stages
    assert all(t is QThread.currentThread() for t in threads), "progress must be queued"


def test_loaded_data_is_evaluated_with_a_normalised_gallery(runner, qtbot, project, model):
    from studio.ml.datasets import load_dataset

    data = load_dataset(replace(project.dataset, test_split=0.0))
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
        runner.start(model, data, batch_size=64)
    report = finished.args[0]
    assert report.evaluation.split == "validation" and report.evaluation.note
    assert report.gallery.count == len(data.x_val) and not report.gallery.as_read


def test_a_model_that_does_not_fit_fails_without_a_traceback(runner, qtbot, model):
    iris = DatasetSpec(BuiltinSource("iris"))
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.start(model, iris)
    message, details = failed.args
    assert details == "" and message
    assert not runner.running


def test_cancel_and_wait_ends_the_thread_and_says_so(runner, qtbot, project, model):
    failures = []
    runner.failed.connect(lambda message, details: failures.append(message))
    runner.start(model, project)
    runner.cancel_and_wait()
    assert not runner.running
    assert failures == ["The evaluation was cancelled."]
