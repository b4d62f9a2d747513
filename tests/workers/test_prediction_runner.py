"""The prediction runner: latest request wins, answers on the GUI thread."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.dataset_spec import BuiltinSource, DatasetSpec
from studio.core.defaults import default_project
from studio.core.prediction import Prediction
from studio.workers.prediction_runner import PredictionRunner

TIMEOUT_MS = 30000
DIGITS = DatasetSpec(BuiltinSource("digits"))


@pytest.fixture(scope="module")
def model():
    from studio.ml.summary import build_model

    return build_model(default_project().model, DIGITS.info, seed=2)


@pytest.fixture
def runner(qtbot):
    runner = PredictionRunner()
    yield runner
    runner.shutdown()


def _drawing(column):
    image = np.zeros((168, 168), np.uint8)
    image[20:150, column:column + 16] = 255
    return image


def test_the_newest_drawing_is_answered(runner, qtbot, model):
    from studio.ml.predict import input_format, try_image

    answers = []
    runner.predicted.connect(answers.append)
    with qtbot.waitSignal(runner.prepared, timeout=TIMEOUT_MS) as prepared:
        runner.set_model(model, DIGITS)
    assert len(prepared.args[0]) == 64
    for column in range(10, 150, 10):
        runner.predict_image(_drawing(column), fit_to_content=False)
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT_MS)
    qtbot.wait(300)  # any stale answer would arrive now
    assert len(answers) == 1, "answers to superseded requests are dropped"
    last = answers[-1]
    assert isinstance(last, Prediction) and sum(last.values) == pytest.approx(1.0)
    expected = try_image(model, DIGITS.info, input_format(DIGITS), _drawing(140))
    assert last.values == pytest.approx(expected.values, abs=1e-6)


def test_bad_rows_and_a_missing_model_fail_with_a_message(runner, qtbot, model):
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.predict_row("1, 2")
    assert failed.args[0] == "No trained model to try yet."
    iris = DatasetSpec(BuiltinSource("iris"))
    runner.set_model(model, iris)
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.predict_row("1, x, 3, 4")
    assert "'sepal width (cm)' (value 2 of 4): 'x' is not a number" in failed.args[0]
