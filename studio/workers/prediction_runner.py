"""Answers the "Try the model" panel's predictions on one background thread.

One prediction takes a few milliseconds for a small model but more for a big one, and
learning the project's normalisation reads the data once; neither may stall drawing. Every
request carries a generation number: one that a newer request has superseded while queued
is skipped, and an answer that arrives after a newer request was made is dropped, so the
panel always shows the prediction of the latest input.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import DatasetSpec
from studio.core.errors import StudioError

if TYPE_CHECKING:  # numpy is imported with the first image, not with the window
    import numpy as np


class _PredictionWorker(QObject):
    prepared = Signal(int, object)  # generation, feature names of the model's input
    predicted = Signal(int, object)  # generation, Prediction
    failed = Signal(int, str)  # generation, message

    def __init__(self) -> None:
        super().__init__()
        self.latest = 0
        self._model: Any = None
        self._info: Any = None  # DatasetInfo once a model is set
        self._format: Any = None  # studio.ml.predict.InputFormat

    @Slot(int, object, object)
    def set_model(self, generation: int, model: Any, dataset: object) -> None:
        self._model = model
        try:
            from studio.ml.predict import identity_format, input_format

            if isinstance(dataset, DatasetSpec):
                self._info, self._format = dataset.info, input_format(dataset)
            elif isinstance(dataset, DatasetInfo):
                self._info, self._format = dataset, identity_format(dataset)
            else:
                self._model = self._info = self._format = None
                return
        except StudioError as error:
            self._model = self._info = self._format = None
            self.failed.emit(generation, str(error))
            return
        except Exception as error:
            self._model = self._info = self._format = None
            self.failed.emit(generation, f"The data could not be read: {error}")
            return
        self.prepared.emit(generation, self._format.feature_names)

    @Slot(int, object, bool, bool)
    def predict_image(self, generation: int, pixels: np.ndarray, fit: bool,
                      invert: bool) -> None:
        from studio.ml.predict import try_image

        self._answer(generation, lambda: try_image(self._model, self._info, self._format,
                                                   pixels, fit_to_content=fit, invert=invert))

    @Slot(int, str)
    def predict_row(self, generation: int, text: str) -> None:
        from studio.ml.predict import try_row

        self._answer(generation, lambda: try_row(self._model, self._info, self._format, text))

    def _answer(self, generation: int, work: Any) -> None:
        if generation < self.latest:
            return  # superseded while queued
        if self._model is None:
            self.failed.emit(generation, "No trained model to try yet.")
            return
        try:
            result = work()
        except StudioError as error:
            self.failed.emit(generation, str(error))
        except Exception as error:
            self.failed.emit(generation, f"The prediction failed: {type(error).__name__}: "
                                         f"{error}\n{traceback.format_exc()}")
        else:
            self.predicted.emit(generation, result)


class PredictionRunner(QObject):
    """Latest-wins predictions for one model; call ``shutdown`` before the window closes."""

    prepared = Signal(object)  # tuple[str, ...]: the input's feature names, once known
    predicted = Signal(object)  # Prediction of the newest request
    failed = Signal(str)  # why the newest request (or the model's set-up) failed

    _model_requested = Signal(int, object, object)
    _image_requested = Signal(int, object, bool, bool)
    _row_requested = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._model_generation = 0
        self._thread: QThread | None = None
        self._worker = _PredictionWorker()
        self._model_requested.connect(self._worker.set_model)
        self._image_requested.connect(self._worker.predict_image)
        self._row_requested.connect(self._worker.predict_row)
        self._worker.prepared.connect(self._on_prepared)
        self._worker.predicted.connect(self._on_predicted)
        self._worker.failed.connect(self._on_failed)

    def set_model(self, model: Any, dataset: DatasetSpec | DatasetInfo | None) -> None:
        """Try ``model`` (a keras.Model, or None for none) on inputs prepared like
        ``dataset``'s: a DatasetSpec gives its normalisation and feature names (read on the
        thread); a DatasetInfo alone means inputs are used as typed."""
        self._start()
        self._model_generation = self._next()
        self._model_requested.emit(self._model_generation, model, dataset)

    def predict_image(self, pixels: np.ndarray, *, fit_to_content: bool = False,
                      invert: bool = False) -> None:
        """A grey (H, W) or colour (H, W, 3) 0..255 image, white ink on black."""
        self._start()
        self._image_requested.emit(self._next(), pixels.copy(), fit_to_content, invert)

    def predict_row(self, text: str) -> None:
        self._start()
        self._row_requested.emit(self._next(), text)

    def shutdown(self) -> None:
        """Stop the thread for good (a prediction under way finishes first; queued ones are
        dropped)."""
        thread = self._thread
        if thread is not None and thread.isRunning():
            self._worker.latest = self._generation + 1  # skip whatever is still queued
            thread.quit()
            thread.wait()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName("studio-prediction")
            self._worker.moveToThread(self._thread)
            self._thread.finished.connect(self._worker.deleteLater)
            self._thread.start()

    def _next(self) -> int:
        self._generation += 1
        self._worker.latest = self._generation
        return self._generation

    def _on_prepared(self, generation: int, names: object) -> None:
        if generation == self._model_generation:  # not a model replaced since
            self.prepared.emit(names)

    def _on_predicted(self, generation: int, prediction: object) -> None:
        if generation == self._generation:
            self.predicted.emit(prediction)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation in (self._generation, self._model_generation):
            self.failed.emit(message)
