"""One background thread for TensorFlow work that is not training.

It imports TensorFlow (about 3-4 s) without freezing the window, then answers layer-stack
summaries, saves models and imports architectures from .keras files. Summary requests carry
a generation number: a request that a newer one has superseded is skipped, so fast editing
never queues up stale work.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, SignalInstance, Slot

from studio.core.dataset_catalog import DatasetInfo
from studio.core.errors import StudioError
from studio.core.model_spec import ModelSpec
from studio.workers.collection_pause import pause_collection, resume_collection


class _MlWorker(QObject):
    loaded = Signal(object)  # DeviceReport
    load_failed = Signal(str)
    summarized = Signal(int, object)  # generation, ModelSummary
    summary_failed = Signal(int, str)
    saved = Signal(str)
    save_failed = Signal(str)
    imported = Signal(str, object)  # path, ImportedArchitecture
    import_failed = Signal(str)
    previewed = Signal(int, object)  # generation, DatasetPreview
    preview_failed = Signal(int, str)
    preview_progress = Signal(int, str, int, int)  # generation, stage, done, total (-1: ?)
    source_described = Signal(object)  # a complete DataSource with its recorded shape
    source_failed = Signal(str)
    data_written = Signal(str)
    data_write_failed = Signal(str)
    model_loaded = Signal(str, object)  # path, keras.Model
    model_load_failed = Signal(str)
    exported = Signal(object)  # ExportResult
    export_failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.latest_generation = 0
        self.latest_preview = 0

    @Slot()
    def load(self) -> None:
        try:
            from studio.ml import training_process
            from studio.ml.devices import inventory, leave_gpu_memory_to_training

            report = inventory()
            if training_process.available():
                # Trainings run in child processes, which need the GPUs' memory.
                leave_gpu_memory_to_training()
        except Exception as error:  # an unusable TensorFlow install must not kill the UI
            self.load_failed.emit(f"TensorFlow could not be loaded: {error}")
            return
        self.loaded.emit(report)

    @Slot(int, object, object)
    def summarize(self, generation: int, spec: ModelSpec, info: DatasetInfo) -> None:
        if generation < self.latest_generation:
            return  # superseded while queued
        try:
            from studio.ml.summary import summarize

            summary = summarize(spec, info)
        except StudioError as error:
            self.summary_failed.emit(generation, str(error))
            return
        except Exception as error:
            self.summary_failed.emit(generation, f"Keras could not analyse the model: {error}")
            return
        self.summarized.emit(generation, summary)

    @Slot()
    def finish(self) -> None:
        """Queued behind all earlier requests, so everything asked before it is done."""
        self.thread().quit()

    @Slot(object, str)
    def save(self, model: Any, path: str) -> None:
        try:
            from studio.ml.model_io import save_keras

            save_keras(model, path)
        except StudioError as error:
            self.save_failed.emit(str(error))
        except Exception:
            self.save_failed.emit(f"{path}: could not save the model.\n{traceback.format_exc()}")
        else:
            self.saved.emit(path)

    def _attempt(self, work: Callable[[], Any], failed: SignalInstance,
                 unexpected: Callable[[Exception], str]) -> tuple[bool, Any]:
        """Run ``work``: a user error's own message, or ``unexpected(error)`` for a bug, goes
        to ``failed``, so nothing escapes the thread."""
        try:
            return True, work()
        except StudioError as error:
            failed.emit(str(error))
        except Exception as error:
            failed.emit(unexpected(error))
        return False, None

    @Slot(str)
    def import_architecture(self, path: str) -> None:
        def work() -> Any:
            from studio.ml.keras_import import import_keras_architecture

            return import_keras_architecture(path)

        ok, result = self._attempt(
            work, self.import_failed,
            lambda error: f"{path}: could not import the architecture ({error}).")
        if ok:
            self.imported.emit(path, result)

    @Slot(int, object)
    def preview(self, generation: int, spec: Any) -> None:
        if generation < self.latest_preview:
            return  # superseded while queued

        def progress(stage: str, done: int, total: int | None) -> None:
            self.preview_progress.emit(generation, stage, done, -1 if total is None else total)

        try:
            from studio.ml.dataset_preview import preview_dataset

            result = preview_dataset(spec, progress, lambda: generation < self.latest_preview)
        except StudioError as error:
            self.preview_failed.emit(generation, str(error))
        except Exception as error:
            self.preview_failed.emit(generation, f"The data could not be read: {error}")
        else:
            self.previewed.emit(generation, result)

    @Slot(str, object)
    def describe_source(self, kind: str, options: Any) -> None:
        def work() -> Any:
            from studio.ml import dataset_import

            return dataset_import.describe(kind, options)

        ok, source = self._attempt(work,
                                   self.source_failed,
                                   lambda error: f"The data could not be read: {error}")
        if ok:
            self.source_described.emit(source)

    @Slot(object, str)
    def write_data(self, spec: Any, path: str) -> None:
        def work() -> Any:
            from studio.ml.datasets import write_data_file

            return write_data_file(spec, path)

        ok, _ = self._attempt(work, self.data_write_failed,
                              lambda error: f"{path}: could not write the data ({error}).")
        if ok:
            self.data_written.emit(path)

    @Slot(str)
    def load_model(self, path: str) -> None:
        def work() -> Any:
            from studio.ml.model_io import load_keras

            return load_keras(path)

        ok, model = self._attempt(work, self.model_load_failed,
                                  lambda error: f"{path}: could not load the model ({error}).")
        if ok:
            self.model_loaded.emit(path, model)

    @Slot(str, str, str, object, bool)
    def export(self, source: str, format_name: str, path: str, options: Any,
               overwrite: bool) -> None:
        def work() -> Any:
            from studio.ml.export import export_model
            from studio.ml.export_source import open_export_source

            return export_model(open_export_source(source), format_name, path,
                                options=options, overwrite=overwrite)

        ok, result = self._attempt(work, self.export_failed,
                                   lambda error: f"{path}: the {format_name} export failed "
                                   f"({type(error).__name__}: {error}).")
        if ok:
            self.exported.emit(result)


class MlService(QObject):
    """Loads TensorFlow in the background and serves summaries and saves from that thread."""

    loaded = Signal(object)  # DeviceReport
    load_failed = Signal(str)
    summarized = Signal(int, object)
    summary_failed = Signal(int, str)
    saved = Signal(str)
    save_failed = Signal(str)
    imported = Signal(str, object)  # path, ImportedArchitecture
    import_failed = Signal(str)
    previewed = Signal(int, object)  # generation, DatasetPreview
    preview_failed = Signal(int, str)
    preview_progress = Signal(int, str, int, int)
    source_described = Signal(object)
    source_failed = Signal(str)
    data_written = Signal(str)
    data_write_failed = Signal(str)
    model_loaded = Signal(str, object)
    model_load_failed = Signal(str)
    exported = Signal(object)  # ExportResult (the file was verified in its own runtime)
    export_failed = Signal(str)

    _load_requested = Signal()
    _summary_requested = Signal(int, object, object)
    _save_requested = Signal(object, str)
    _finish_requested = Signal()
    _import_requested = Signal(str)
    _preview_requested = Signal(int, object)
    _describe_requested = Signal(str, object)
    _write_data_requested = Signal(object, str)
    _load_model_requested = Signal(str)
    _export_requested = Signal(str, str, str, object, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._preview_generation = 0
        self.ready = False
        self._thread = QThread()
        self._thread.setObjectName("studio-ml")
        self._worker = _MlWorker()
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._load_requested.connect(self._worker.load)
        self._summary_requested.connect(self._worker.summarize)
        self._save_requested.connect(self._worker.save)
        self._finish_requested.connect(self._worker.finish)
        self._import_requested.connect(self._worker.import_architecture)
        self._worker.imported.connect(self.imported)
        self._worker.import_failed.connect(self.import_failed)
        self._preview_requested.connect(self._worker.preview)
        self._describe_requested.connect(self._worker.describe_source)
        self._write_data_requested.connect(self._worker.write_data)
        self._load_model_requested.connect(self._worker.load_model)
        self._export_requested.connect(self._worker.export)
        for name in ("previewed", "preview_failed", "preview_progress", "source_described",
                     "source_failed", "data_written", "data_write_failed", "model_loaded",
                     "model_load_failed", "exported", "export_failed"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._worker.exported.connect(self._export_ended)
        self._worker.export_failed.connect(self._export_ended)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.load_failed.connect(self.load_failed)
        self._worker.summarized.connect(self.summarized)
        self._worker.summary_failed.connect(self.summary_failed)
        self._worker.saved.connect(self.saved)
        self._worker.save_failed.connect(self.save_failed)

    @property
    def generation(self) -> int:
        """The generation of the newest summary request; older answers are stale."""
        return self._generation

    def start(self) -> None:
        self._thread.start()
        self._load_requested.emit()

    def request_summary(self, spec: ModelSpec, info: DatasetInfo) -> int:
        self._generation += 1
        self._worker.latest_generation = self._generation
        self._summary_requested.emit(self._generation, spec, info)
        return self._generation

    def save_model(self, model: Any, path: str) -> None:
        self._save_requested.emit(model, path)

    def request_preview(self, spec: Any) -> int:
        """Load ``spec``'s data for the Data tab; older pending requests are skipped."""
        self._preview_generation += 1
        self._worker.latest_preview = self._preview_generation
        self._preview_requested.emit(self._preview_generation, spec)
        return self._preview_generation

    @property
    def preview_generation(self) -> int:
        return self._preview_generation

    def describe_source(self, kind: str, options: Any) -> None:
        """Read a user's file once to record its shape and classes (numpy, images)."""
        self._describe_requested.emit(kind, options)

    def load_model(self, path: str) -> None:
        """Load a .keras file (safe_mode) on the ML thread: ``model_loaded`` follows."""
        self._load_model_requested.emit(path)

    def write_data(self, spec: Any, path: str) -> None:
        """Write the samples of ``spec`` to an .npz (for the exported Keras script)."""
        self._write_data_requested.emit(spec, path)

    def export(self, source: str, format_name: str, path: str, options: Any,
               overwrite: bool = False) -> None:
        """Export the model of ``source`` (a run folder or .keras file) and verify the file in
        its own runtime: ``exported`` or ``export_failed`` follows."""
        pause_collection()  # converters trace TensorFlow functions on the ML thread
        self._export_requested.emit(source, format_name, path, options, overwrite)

    def _export_ended(self, _outcome: object) -> None:
        resume_collection()

    def import_architecture(self, path: str) -> None:
        """Read a .keras model's stack (answered by ``imported`` or ``import_failed``)."""
        self._import_requested.emit(path)

    def shutdown(self) -> None:
        """Finish queued work (a model save, say) and stop the thread.

        ``QThread.quit`` would drop requests still in the queue, so the worker is asked to
        quit by a request queued behind them.
        """
        if self._thread.isRunning():
            self._worker.latest_preview = self._preview_generation + 1  # cancels a long read
            self._finish_requested.emit()
            self._thread.wait()

    def _on_loaded(self, report: object) -> None:
        self.ready = True
        self.loaded.emit(report)
