"""The main window: model builder, training and device tabs around one project document."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
)

from studio.core.architecture import load_architecture, save_architecture
from studio.core.devices import DeviceReport
from studio.core.errors import StudioError
from studio.core.model_spec import ModelSpec
from studio.core.project import Project
from studio.core.run_events import EVENTS_FILE
from studio.core.run_record import (
    RUN_FILE,
    RunRecord,
    list_runs,
    new_run_folder,
    read_run,
    resumable_epochs,
    write_run,
)
from studio.core.summary import ModelSummary
from studio.ui.about_dialog import AboutDialog
from studio.ui.batch_probe_dialog import BatchProbeDialog
from studio.ui.builder_view import BuilderView
from studio.ui.csv_import_dialog import CsvImportDialog
from studio.ui.dataset_view import DatasetView
from studio.ui.device_view import DeviceView
from studio.ui.document import ProjectDocument
from studio.ui.evaluation_view import EvaluationView
from studio.ui.export_dialog import ExportDialog
from studio.ui.icons import set_icon
from studio.ui.navigation import make_view_menu
from studio.ui.runs_view import RunsView
from studio.ui.shortcuts_dialog import ShortcutsDialog
from studio.ui.training_view import TrainingView
from studio.ui.try_model_view import TryModelView
from studio.ui.window_session import WindowSession, ask_recover_dialog
from studio.workers.batch_probe_runner import BatchProbeRunner
from studio.workers.collection_pause import CollectionTimer, freeze_long_lived
from studio.workers.download_runner import DownloadRunner
from studio.workers.evaluation_runner import EvaluationRunner
from studio.workers.ml_service import MlService
from studio.workers.training_runner import TrainingRunner

if TYPE_CHECKING:
    from studio.ui.run_monitor import RunMonitor

PROJECT_FILTER = "Training Studio project (*.json)"
ARCHITECTURE_FILTER = "Architecture (*.json)"
IMPORT_FILTER = "Architecture or Keras model (*.json *.keras);;Keras model (*.keras)"


class MainWindow(QMainWindow):
    training_finished = Signal(object)  # TrainingResult
    training_failed = Signal(str)
    model_saved = Signal(str)

    def __init__(self, project: Project, path: Path | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.document = ProjectDocument(project, path, self)
        self.ml = MlService(self)
        self.runner = TrainingRunner(self)
        self.trained_model: Any = None
        self.last_result: Any = None
        self.last_error = ""
        self.data_preview: Any = None  # the last DatasetPreview shown in the Data tab
        self.data_preview_of: Any = None  # ... and the DatasetSpec it shows
        self.csv_dialog: Any = None
        self._run_training: Any = None  # the TrainingConfig of the run in progress
        self.current_run: Path | None = None  # the folder of the run in progress or last
        #: Asked at launch about an interrupted run (its description); True resumes it.
        self.ask_resume: Callable[[str], bool] = self._ask_resume_dialog
        #: Asked at launch about work a crash left unsaved (its description); True restores it.
        self.ask_recover: Callable[[str], bool] = lambda text: ask_recover_dialog(self, text)
        self.device_report: DeviceReport | None = None  # for Help > About, once TF loaded
        self.tensorflow_error = ""
        self.about_dialog: AboutDialog | None = None
        self.run_monitors: list[RunMonitor] = []  # windows watching other processes' runs
        self._download_started = 0.0
        self._summary: ModelSummary | None = None
        self._analysis_error = ""
        self.model_unsaved = False  # a trained model that was not saved yet
        #: Asked before unsaved work (subject: "project" or "trained model") would be lost;
        #: returns "save", "discard" or "cancel". Tests replace it; the default is a dialog.
        self.ask_unsaved: Callable[[str, str], str] = self._ask_unsaved_dialog
        #: Asked when training ran out of memory (message, smaller batch size); returns
        #: "retry" (train again with that batch), "probe" (find what fits) or "close".
        self.ask_out_of_memory: Callable[[str, int], str] = self._ask_out_of_memory_dialog

        #: Collects garbage on this thread only: see collection_pause.
        self.collection = CollectionTimer(self)
        self.downloads = DownloadRunner(self)
        self._previewed_dataset: Any = None  # the DatasetSpec of the last preview request
        self.data = DatasetView(self.document)
        self.builder = BuilderView(self.document)
        self.training = TrainingView(self.document)
        self.devices = DeviceView(self.settings, self.document)
        self.batch_dialog: BatchProbeDialog | None = None
        self._train_when_ready = False  # set by "retry with a smaller batch"
        self._closing = False  # set once a close has been accepted
        self.runs = RunsView(lambda: self.runs_root)
        self.evaluation = EvaluationView()
        self.try_model = TryModelView()
        self.evaluator = EvaluationRunner(self)
        self.export_dialog: ExportDialog | None = None
        #: Where the current trained model lives: its run folder, or a .keras file.
        self.model_source: Path | None = None
        #: The project the current model was trained with (its data and split): evaluation
        #: and "try the model" use it, whatever the document has become since.
        self.model_project: Project | None = None
        self._training_project: Project | None = None
        evaluate_tab = self.evaluate_tab = QSplitter()
        evaluate_tab.addWidget(self.evaluation)
        evaluate_tab.addWidget(self.try_model)
        evaluate_tab.setSizes([850, 400])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.data, "D&ata")
        self.tabs.addTab(self.builder, "&Model builder")
        self.tabs.addTab(self.training, "&Training")
        self.tabs.addTab(evaluate_tab, "Eva&luate")  # Alt+E opens the Edit menu
        self.tabs.addTab(self.runs, "R&uns")
        self.tabs.addTab(self.devices, "&Devices")
        self.tabs.setAccessibleName("Main areas")
        self.tabs.tabBar().setAccessibleName("Main areas")
        self.tabs.setCurrentWidget(self.builder)
        self.setCentralWidget(self.tabs)
        self.tf_status = QLabel("Loading TensorFlow…")
        self.statusBar().addPermanentWidget(self.tf_status)
        #: Preferences, window layout, recent projects and auto-save, kept between launches.
        self.session = WindowSession(self)
        self._make_menus()

        self.devices.find_batch_requested.connect(self.find_largest_batch)
        self.evaluation.evaluate_requested.connect(self.evaluate)
        self.evaluator.finished.connect(self._evaluated)
        self.evaluator.failed.connect(self._evaluation_failed)
        self.evaluator.progress.connect(self.evaluation.set_busy)
        self.evaluation.set_can_evaluate(False, "Train a model (or open a run's model) first.")
        self.document.changed.connect(self._document_changed)
        self.document.path_changed.connect(self._update_title)
        self.builder.message.connect(self._show_message)
        self.builder.data_requested.connect(lambda: self.tabs.setCurrentWidget(self.data))
        self.data.message.connect(self._show_message)
        self.data.import_requested.connect(self.import_data)
        self.data.download_requested.connect(self.download_dataset)
        self.data.cancel_download_requested.connect(self.downloads.cancel)
        self.downloads.progress.connect(self._download_progress)
        self.downloads.finished.connect(self._download_ended)
        self.downloads.cancelled.connect(self._download_ended)
        self.downloads.failed.connect(self._download_failed)
        self.ml.previewed.connect(self._previewed)
        self.ml.preview_failed.connect(self._preview_failed)
        self.ml.preview_progress.connect(self._preview_progress)
        self.ml.source_described.connect(
            lambda source: self.data.use_source(source, f"Import {source.info.title}"))
        self.ml.source_failed.connect(lambda message: self.show_error("Import data", message))
        self.builder.code_pane.data_file_requested.connect(
            lambda path: self.ml.write_data(self.document.project.dataset, path))
        self.ml.data_written.connect(lambda path: self._show_message(f"Wrote the data to {path}"))
        self.ml.data_write_failed.connect(lambda message: self.show_error("Save data", message))
        self.runs.open_model_requested.connect(self.open_run_model)
        self.ml.model_loaded.connect(self._run_model_loaded)
        self.ml.model_load_failed.connect(lambda message: self.show_error("Open model",
                                                                          message))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.ml.loaded.connect(self._ml_loaded)
        self.ml.load_failed.connect(self._ml_failed)
        self.ml.summarized.connect(self._summarized)
        self.ml.summary_failed.connect(self._summary_failed)
        self.ml.saved.connect(self._model_saved)
        self.ml.save_failed.connect(lambda message: self.show_error("Save model", message))
        self.ml.imported.connect(self._architecture_imported)
        self.ml.import_failed.connect(
            lambda message: self.show_error("Import architecture", message))
        self.training.train_requested.connect(self.train)
        self.training.stop_requested.connect(self.stop_training)
        self.training.pause_requested.connect(self._pause_requested)
        self.training.settings.message.connect(self._show_message)
        self.training.save_model_requested.connect(lambda: self.save_model())
        self.runner.training_event.connect(self.training.on_event)
        self.runner.memory_policy_applied.connect(self.devices.set_applied_by_training)
        self.runner.process_started.connect(self.training.utilisation_monitor.watch)
        self.runner.finished.connect(self._training_finished)
        self.runner.failed.connect(self._training_failed)
        self.runner.out_of_memory.connect(self._training_out_of_memory)

        self.training.set_has_model(False)
        self._update_title()
        self._update_train_state()
        self.resize(1200, 780)
        self.session.start()  # the saved size and layout, and what settings were ignored

    # ----- start-up ------------------------------------------------------------------------
    def start_background_loading(self) -> None:
        """After the first paint: import TensorFlow on the ML thread, then build the plots."""
        # Work a crash left unsaved is offered first, before TensorFlow (once loaded) offers
        # to resume an interrupted run: one question at a time.
        self.session.offer_recovery()
        self.ml.start()
        self.training.create_plots()
        self.session.plots_created()

    def _ml_loaded(self, report: DeviceReport) -> None:
        self.tf_status.setText(f"TensorFlow {report.tensorflow_version} ready · "
                               f"{'GPU' if report.gpus else 'CPU'}")
        self.devices.set_report(report)
        self.device_report = report
        if self.about_dialog is not None:
            self.about_dialog.set_report(report)
        self._document_changed()
        self.offer_resume()
        freeze_long_lived()
        self.runner.prepare(self.devices.memory_policy(), self.document.project)

    # ----- runs and crash recovery ---------------------------------------------------------
    @property
    def runs_root(self) -> Path:
        """Where runs are recorded: the preference, else the user's data folder."""
        return self.session.preferences.runs_root()

    def interrupted_runs(self) -> list[tuple[Path, RunRecord]]:
        """Runs whose process died mid-training and whose backup can resume them."""
        return [(folder, record) for folder, record in list_runs(self.runs_root)
                if record.interrupted and resumable_epochs(folder)]

    def offer_resume(self) -> bool:
        """After a crash: offer to resume the newest interrupted run (once per launch)."""
        if self.runner.running:
            return False
        for folder, record in self.interrupted_runs()[:1]:
            done = resumable_epochs(folder) or 0
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
            text = (f"Training of “{record.name}” (started {started}) was interrupted after "
                    f"epoch {done} of {record.epochs}. Resume it from there?")
            if self.ask_resume(text):
                return self.resume_run(folder)
            # Declined: mark it so it is not offered again.
            write_run(folder, record.ended("stopped", "interrupted; not resumed"))
        return False

    def resume_run(self, folder: Path) -> bool:
        """Continue an interrupted run with its own project, optimizer state and curves."""
        record = read_run(folder)
        if record is None or self.runner.running:
            return False
        try:
            project = Project.from_dict(dict(record.project))
        except StudioError as error:
            self.show_error("Resume", f"{folder}: {error}")
            return False
        if not self.confirm_discard("resume the interrupted run"):
            return False
        self.document.replace(project, None)
        self.current_run = folder
        self._run_training = project.training
        self._training_project = project
        self.training.append_log(f"Resuming the run in {folder}")
        self.runner.start(project, self.devices.memory_policy(), folder)
        self.training.set_running(True)
        self.stop_action.setEnabled(True)
        self._update_train_state()
        self.tabs.setCurrentWidget(self.training)
        return True

    def open_run_model(self, path: str) -> None:
        """Make a recorded run's model the current trained model (to save or export it)."""
        if self.model_unsaved:
            answer = self.ask_unsaved("open another model", "trained model")
            if answer == "save":
                self.save_model()  # saved in the background: the user opens it again
            if answer != "discard":
                return
        self.ml.load_model(path)

    def _run_model_loaded(self, path: str, model: Any) -> None:
        source = Path(path)
        record = read_run(source.parent) if (source.parent / "run.json").exists() else None
        project = None
        if record is not None:
            try:
                project = Project.from_dict(dict(record.project))
            except StudioError:
                project = None  # evaluated on the open project's data instead
        self._set_model(model, source.parent if record is not None else source, project)
        self.model_unsaved = False  # it is saved, in its run folder
        self.training.set_has_model(True)
        self.save_model_action.setEnabled(True)
        self._show_message(f"Opened the model of {Path(path).parent.name}")
        self.training.append_log(f"Opened the model {path}")

    def watch_run(self, folder: str | Path | None = None) -> RunMonitor | None:
        """Follow a run that another process writes, live, in a window of its own."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Open run", str(self.runs_root))
            if not folder:
                return None
        path = Path(folder)
        if not path.is_dir() or not ((path / EVENTS_FILE).exists()
                                     or (path / RUN_FILE).exists()):
            self.show_error("Open run", f"{path} is not a run folder: it has no {EVENTS_FILE} "
                            f"or {RUN_FILE}. Choose the folder given to 'studio train "
                            "--output'.")
            return None
        from studio.ui.run_monitor import RunMonitor  # imports pyqtgraph: not before a paint

        monitor = RunMonitor(path, self)
        monitor.show()
        self.run_monitors.append(monitor)
        monitor.destroyed.connect(lambda: self.run_monitors.remove(monitor)
                                  if monitor in self.run_monitors else None)
        return monitor

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.runs:
            self.runs.refresh()

    def _ask_resume_dialog(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Resume training?", text,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def _ml_failed(self, message: str) -> None:
        self.tensorflow_error = message
        self._analysis_error = message
        self.tf_status.setText("TensorFlow unavailable")
        self.builder.set_pending(message)
        self.data.set_error(message)
        self.show_error("TensorFlow", message)
        self._update_train_state()

    # ----- project -------------------------------------------------------------------------
    def _document_changed(self) -> None:
        self._forward_paused_changes()
        self._summary = None
        if self.ml.ready:
            self._analysis_error = ""
        self._update_title()
        if self.ml.ready:
            self.builder.set_pending("analysing…")
            project = self.document.project
            self.ml.request_summary(project.model, project.dataset.info)
            self.refresh_preview()
        self._update_train_state()

    def _forward_paused_changes(self) -> None:
        """While paused the user may change the learning rate and epochs of the run."""
        running = self._run_training
        if running is None or not self.runner.running:
            return
        config = self.document.project.training
        rate = config.learning_rate if config.learning_rate != running.learning_rate else None
        epochs = config.epochs if config.epochs != running.epochs else None
        if rate is not None or epochs is not None:
            self.runner.request_changes(learning_rate=rate, epochs=epochs)
            self._run_training = replace(running, learning_rate=config.learning_rate,
                                         epochs=config.epochs)

    # ----- data ----------------------------------------------------------------------------
    def refresh_preview(self, force: bool = False) -> None:
        """Ask the ML thread to read the data again when the dataset choice changed."""
        dataset = self.document.project.dataset
        if force or dataset != self._previewed_dataset:
            self._previewed_dataset = dataset
            self.data_preview_of = None  # until the answer comes
            self.data.set_pending()
            self.ml.request_preview(dataset)

    def _previewed(self, generation: int, preview: Any) -> None:
        if generation == self.ml.preview_generation:
            self.data.set_preview(preview)
            self.data_preview = preview
            self.data_preview_of = self._previewed_dataset

    def _preview_failed(self, generation: int, message: str) -> None:
        if generation == self.ml.preview_generation:
            self.data.set_error(message)
            self.data_preview = None
            self.data_preview_of = self._previewed_dataset

    def _preview_progress(self, generation: int, stage: str, done: int, total: int) -> None:
        if generation == self.ml.preview_generation:
            self.data.set_reading(stage, done, total)

    def import_data(self, kind: str, path: str | Path | None = None,
                    y_path: str | Path | None = None) -> None:
        """Import a CSV file, NumPy arrays or an image folder as the project's data."""
        if kind == "csv":
            if path is None:
                path, _ = QFileDialog.getOpenFileName(self, "Import CSV", "",
                                                      "CSV files (*.csv *.tsv *.txt)")
                if not path:
                    return
            dialog = CsvImportDialog(Path(path), parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(
                lambda: self.data.use_source(dialog.source(), f"Import {Path(path).name}"))
            dialog.open()
            self.csv_dialog = dialog
            return
        if kind == "numpy":
            if path is None:
                path, _ = QFileDialog.getOpenFileName(
                    self, "Import NumPy data (an .npz, or the x .npy file)", "",
                    "NumPy data (*.npz *.npy)")
                if not path:
                    return
                if str(path).endswith(".npy"):
                    y_path, _ = QFileDialog.getOpenFileName(
                        self, "The labels (y) .npy file", str(Path(path).parent),
                        "NumPy array (*.npy)")
                    if not y_path:
                        return
            self._show_message(f"Reading {Path(path).name}…")
            self.ml.describe_source("numpy", {"path": str(path),
                                              "y_path": str(y_path) if y_path else None})
            return
        if path is None:
            path = QFileDialog.getExistingDirectory(
                self, "Import an image folder (one sub-folder per class)")
            if not path:
                return
        self._show_message(f"Scanning {Path(path).name}…")
        self.ml.describe_source("images", {"path": str(path), "image_size": (64, 64),
                                           "color_mode": "rgb"})

    def download_dataset(self, name: str) -> None:
        if self.downloads.start(name):
            self._download_started = time.perf_counter()
            self.data.set_downloading(True)

    def _download_progress(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self._download_started
        self.data.set_download_progress(done, total, elapsed)

    def _download_ended(self, name: str) -> None:
        self.data.set_downloading(False)
        self.refresh_preview(force=True)

    def _download_failed(self, message: str) -> None:
        self.data.set_downloading(False)
        self.show_error("Download", message)

    def _summarized(self, generation: int, summary: ModelSummary) -> None:
        if generation != self.ml.generation:
            return  # an edit came after this request
        self._summary = summary
        self.builder.set_summary(summary)
        self._update_train_state()

    def _summary_failed(self, generation: int, message: str) -> None:
        if generation == self.ml.generation:
            self._analysis_error = message
            self.builder.set_pending(message)
            self._update_train_state()

    def _ask_unsaved_dialog(self, action: str, subject: str) -> str:
        name = self.document.path.name if self.document.path else self.document.project.name
        question = (f"Save the changes to {name} before you {action}?" if subject == "project"
                    else f"The trained model has not been saved. Save it before you {action}?")
        answer = QMessageBox.question(
            self, "Unsaved changes", question,
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def confirm_discard(self, action: str) -> bool:
        """True when it is fine to drop the current project (saved, or the user agreed)."""
        if self.document.modified:
            answer = self.ask_unsaved(action, "project")
            if answer == "cancel" or (answer == "save" and not self.save_project()):
                return False
        if self.model_unsaved:
            answer = self.ask_unsaved(action, "trained model")
            if answer == "save":
                self.save_model()  # saved in the background: the user repeats the action
                return False
            if answer != "discard":
                return False
            self.model_unsaved = False
        return True

    def new_project(self) -> None:
        from studio.core.defaults import default_project

        if self.confirm_discard("start a new project"):
            self.document.replace(default_project(), None)

    def open_project(self, path: str | Path) -> bool:
        """Open ``path``; on failure the current project stays and the error is shown."""
        if not self.confirm_discard("open another project"):
            return False
        try:
            self.document.open(Path(path))
        except StudioError as error:
            self.show_error("Open project", str(error))
            return False
        except Exception as error:  # an unexpected bug must not take the window down
            self.show_error("Open project", f"{path}: could not be opened ({error}).")
            return False
        self._show_message(f"Opened {path}")
        return True

    def save_project(self, path: str | Path | None = None) -> bool:
        target = Path(path) if path else self.document.path
        if target is None:
            return self.save_project_as()
        try:
            self.document.save(target)
        except StudioError as error:
            self.show_error("Save project", str(error))
            return False
        self._show_message(f"Saved {target}")
        return True

    def save_project_as(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(self, "Save project", "project.json",
                                              PROJECT_FILTER)
        return self.save_project(name) if name else False

    def _open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if name:
            self.open_project(name)

    # ----- architectures -------------------------------------------------------------------
    def export_architecture(self, path: str | Path | None = None) -> bool:
        """Save the layer stack on its own, to reuse it in another project."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export architecture",
                                                  "architecture.json", ARCHITECTURE_FILTER)
            if not path:
                return False
        try:
            save_architecture(self.document.project.model, path)
        except StudioError as error:
            self.show_error("Export architecture", str(error))
            return False
        self._show_message(f"Saved the architecture to {path}")
        return True

    def import_architecture(self, path: str | Path | None = None) -> None:
        """Replace the stack with one from an architecture, project or .keras file (undoable).

        A .keras file needs Keras, so it is read on the ML thread and lands in
        ``_architecture_imported``.
        """
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import architecture", "",
                                                  IMPORT_FILTER)
            if not path:
                return
        path = Path(path)
        if path.suffix == ".keras":
            self._show_message(f"Reading {path.name}…")
            self.ml.import_architecture(str(path))
            return
        try:
            spec = load_architecture(path)
        except StudioError as error:
            self.show_error("Import architecture", str(error))
            return
        self._use_architecture(spec, path.name)

    def _architecture_imported(self, path: str, imported: Any) -> None:
        self._use_architecture(imported.spec, Path(path).name)
        for note in imported.notes:
            self.training.append_log(note)
        self._show_message(" ".join(imported.notes))

    def _use_architecture(self, spec: ModelSpec, source: str) -> None:
        project = self.document.project
        self.document.edit(replace(project, model=spec), f"Import architecture from {source}")
        self.tabs.setCurrentWidget(self.builder)
        self._show_message(f"Imported the architecture from {source} (Ctrl+Z undoes it)")

    # ----- training ------------------------------------------------------------------------
    def can_train(self) -> tuple[bool, str]:
        if self._closing:
            return False, "The studio is closing."
        if self.runner.running:
            return False, ""
        if self.evaluator.running:
            return False, "Wait for the evaluation to end."
        if self._analysis_error:
            return False, self._analysis_error
        if not self.ml.ready:
            return False, "Train is available once TensorFlow has loaded."
        if self._summary is None:
            return False, "Checking the model…"
        if not self._summary.valid:
            return False, "Fix the model first: " + self._summary.problems[0].message
        return True, ""

    def _update_train_state(self) -> None:
        allowed, reason = self.can_train()
        self.training.set_can_train(allowed, reason)
        self.train_action.setEnabled(allowed)
        self.find_batch_action.setEnabled(allowed)
        self.devices.find_batch_button.setEnabled(allowed)
        if self.runner.running:
            self.evaluation.set_can_evaluate(False, "Wait for the training to end.")
        elif self.trained_model is not None:
            self.evaluation.set_can_evaluate(True)
        if allowed and self._train_when_ready:
            self._train_when_ready = False
            QTimer.singleShot(0, self.train)

    def find_largest_batch(self) -> bool:
        """Open the batch-size search for the project (not while a training runs: both would
        compete for the same device memory)."""
        allowed, reason = self.can_train()
        if not allowed:
            self._show_message(reason or "Wait for the training to end first.")
            return False
        runner = BatchProbeRunner()
        runner.memory_policy_applied.connect(self.devices.set_applied)
        self.batch_dialog = BatchProbeDialog(self.document, runner,
                                             memory_policy=self.devices.memory_policy(),
                                             parent=self)
        runner.setParent(self.batch_dialog)
        self.batch_dialog.open()  # window-modal, without blocking the event loop
        return True

    def train(self) -> bool:
        allowed, reason = self.can_train()
        if not allowed:
            if reason:
                self._show_message(reason)
            return False
        self._run_training = self.document.project.training
        project = self._training_project = self.document.project
        try:
            run_dir = new_run_folder(self.runs_root, project.name)
        except OSError as error:
            self.show_error("Train", f"{self.runs_root}: cannot create the run folder "
                                     f"({error.strerror or error}).")
            return False
        self.current_run = run_dir
        self.training.append_log(f"Recording this run in {run_dir}")
        self.runner.start(project, self.devices.memory_policy(), run_dir)
        self.training.set_running(True)
        self.stop_action.setEnabled(True)
        self._update_train_state()
        self.tabs.setCurrentWidget(self.training)
        return True

    def stop_training(self) -> None:
        if self.runner.running:
            self.runner.stop()
            self.training.pause_button.setEnabled(False)  # a stopping run cannot pause
            self.training.append_log("Stopping after the current batch…")

    def _pause_requested(self, pause: bool) -> None:
        if pause:
            self.runner.pause()
        else:
            self.runner.resume()

    def _training_finished(self, result: Any) -> None:
        run = self.current_run
        self._set_model(result.model, run if run and (run / "model.keras").exists() else None,
                        self._training_project)
        self.last_result = result
        self.model_unsaved = True
        epochs = result.epochs_completed
        if result.diverged:
            text = f"Stopped at epoch {epochs}: the loss became NaN or infinite."
        elif result.reason and result.reason != "stopped by the user":
            text = f"Finished after {epochs} epoch(s): {result.reason}."
        elif result.stopped_early:
            text = (f"Stopped after {epochs} complete epoch(s); the model keeps what it "
                    "learned.")
        else:
            text = f"Finished {epochs} epochs."
        if result.history:
            last = result.history[-1]
            if "val_accuracy" in last:
                text += f" Validation accuracy {last['val_accuracy']:.1%}."
            elif "val_mae" in last:
                text += f" Validation mean absolute error {last['val_mae']:.4g}."
        self._after_training(text)
        self.training.set_has_model(True)
        self.save_model_action.setEnabled(True)
        self.runs.refresh()
        self.training_finished.emit(result)

    def _training_failed(self, message: str, details: str) -> None:
        self._after_training("Training failed.")
        if details:
            self.training.append_log(details)
        self.show_error("Training", message)
        self.training_failed.emit(message)

    def _training_out_of_memory(self, message: str, batch_size: int) -> None:
        self._after_training("Out of memory.")
        self.training.append_log(message)
        self.training_failed.emit(message)
        smaller = max(1, batch_size // 2)
        if batch_size <= 1:  # nothing smaller to offer: the model itself does not fit
            self.show_error("Out of memory", message)
            return
        answer = self.ask_out_of_memory(message, smaller)
        if answer == "retry":
            project = self.document.project
            training = replace(project.training, batch_size=smaller)
            # Train once the edited project has been checked again.
            self._train_when_ready = True
            self.document.edit(replace(project, training=training),
                               f"Set batch size to {smaller}")
            self._update_train_state()
        elif answer == "probe":
            self.find_largest_batch()

    def _ask_out_of_memory_dialog(self, message: str, smaller: int) -> str:
        box = QMessageBox(QMessageBox.Icon.Warning, "Out of memory", message,
                          QMessageBox.StandardButton.Close, self)
        retry = box.addButton(f"Retry with batch size {smaller}",
                              QMessageBox.ButtonRole.AcceptRole)
        probe = box.addButton("Find the largest batch…", QMessageBox.ButtonRole.ActionRole)
        box.setDefaultButton(retry)
        box.exec()
        clicked = box.clickedButton()
        return "retry" if clicked is retry else "probe" if clicked is probe else "close"

    # ----- evaluation and export -------------------------------------------------------------
    def _set_model(self, model: Any, source: Path | None, project: Project | None) -> None:
        """A trained model is at hand: it can be evaluated, tried and exported."""
        self.evaluator.cancel_and_wait()  # an evaluation of the previous model is stale
        self.trained_model = model
        self.model_source = source
        self.model_project = project or self.document.project
        self.export_model_action.setEnabled(source is not None)
        self.evaluation.clear()
        self.try_model.set_model(model, self.model_project.dataset)
        self._update_train_state()

    def evaluate(self) -> bool:
        """Evaluate the current model on the test split (validation without one) of the
        project it was trained with."""
        if self.trained_model is None or self.runner.running or self.evaluator.running:
            return False
        self.evaluation.set_busy()
        project = self.model_project or self.document.project
        started = bool(self.evaluator.start(self.trained_model, project))
        self._update_train_state()  # no training or batch search beside it
        return started

    def _evaluated(self, report: Any) -> None:
        self.evaluation.show_evaluation(report.evaluation, report.gallery)
        self._update_train_state()

    def _evaluation_failed(self, message: str, details: str) -> None:
        self.evaluation.set_error(message or "Evaluation cancelled.")
        self._update_train_state()
        if details:
            self.training.append_log(details)

    def export_model(self) -> bool:
        """Open the export dialog for the current model (trained here or a run's)."""
        if self.model_source is None or not self.ml.ready:
            self._show_message("Train a model (or open a run's model) first.")
            return False
        stem = "".join(c if c.isalnum() else "_" for c in self.document.project.name.lower())
        self.export_dialog = ExportDialog(self.ml, self.model_source, stem.strip("_") or "model",
                                          self)
        self.export_dialog.open()
        return True

    def _after_training(self, text: str) -> None:
        self.training.set_running(False)
        self.training.show_finished(text)
        self.stop_action.setEnabled(False)
        self._update_train_state()

    # ----- model export --------------------------------------------------------------------
    def save_model(self, path: str | Path | None = None) -> bool:
        if self.trained_model is None:
            self._show_message("Train a model first.")
            return False
        if path is None:
            dialog = QFileDialog(self, "Save model", "model.keras", "Keras model (*.keras)")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("keras")  # added before the overwrite check, not after
            if not dialog.exec():
                return False
            path = dialog.selectedFiles()[0]
        path = Path(path)
        if path.suffix != ".keras":
            self.show_error("Save model", f"{path}: a Keras model file must end in .keras.")
            return False
        self.ml.save_model(self.trained_model, str(path))
        return True

    def _model_saved(self, path: str) -> None:
        self.model_unsaved = False
        self._show_message(f"Saved model to {path}")
        self.training.append_log(f"Saved model to {path}")
        self.model_saved.emit(path)

    # ----- chrome --------------------------------------------------------------------------
    def _make_menus(self) -> None:
        def action(text: str, slot: Any, shortcut: Any = None, tip: str = "",
                   icon_name: str = "") -> QAction:
            act = QAction(text, self)
            if icon_name:
                set_icon(act, icon_name)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            return act

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(action("&New", self.new_project, QKeySequence.StandardKey.New,
                                   "Start again from the default project", "new"))
        file_menu.addAction(action("&Open…", self._open_dialog, QKeySequence.StandardKey.Open,
                                   icon_name="open"))
        file_menu.addMenu(self.session.recent_menu)
        file_menu.addAction(action("Open r&un…", lambda: self.watch_run(), "Ctrl+Shift+O",
                                   "Watch a run folder that another process writes (studio "
                                   "train, a GPU box, a cluster's shared folder)", "open"))
        file_menu.addAction(action("&Save", lambda: self.save_project(),
                                   QKeySequence.StandardKey.Save, icon_name="save"))
        file_menu.addAction(action("Save &As…", self.save_project_as,
                                   QKeySequence.StandardKey.SaveAs, icon_name="save-as"))
        file_menu.addSeparator()
        file_menu.addAction(action("&Import architecture…", lambda: self.import_architecture(),
                                   "Ctrl+I", "Use the layer stack of an architecture, project "
                                   "or .keras file", "import"))
        file_menu.addAction(action("E&xport architecture…", lambda: self.export_architecture(),
                                   None, "Save the layer stack on its own as JSON", "export"))
        file_menu.addSeparator()
        self.save_model_action = action("Save &model (.keras)…", lambda: self.save_model(),
                                        "Ctrl+E", "Save the trained model as a .keras file",
                                        "save-model")
        self.save_model_action.setEnabled(False)
        file_menu.addAction(self.save_model_action)
        self.export_model_action = action("Export mo&del…", lambda: self.export_model(),
                                          "Ctrl+Shift+E", "Export the trained model as "
                                          "SavedModel, TFLite, ONNX, weights or a script",
                                          "export-model")
        self.export_model_action.setEnabled(False)
        file_menu.addAction(self.export_model_action)
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", self.close, QKeySequence.StandardKey.Quit,
                                   icon_name="quit"))

        edit_menu = self.menuBar().addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        set_icon(undo, "undo")
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        # Redo is Ctrl+Shift+Z itself on Linux desktops: listed twice, the key would be
        # ambiguous and do nothing.
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        redo.setShortcuts([*redo_keys, QKeySequence("Ctrl+Shift+Z")]
                          if QKeySequence("Ctrl+Shift+Z") not in redo_keys else redo_keys)
        set_icon(redo, "redo")
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        edit_menu.addSeparator()
        self.preferences_action = action("&Preferences…", self.session.edit_preferences,
                                         "Ctrl+,", "Output folder for runs, theme, auto-save")
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(self.preferences_action)

        self.view_menu = make_view_menu(self, self.tabs)  # Ctrl+1..6, Ctrl+PgUp/PgDown

        train_menu = self.menuBar().addMenu("T&raining")
        self.train_action = action("&Train", self.train, "F5", icon_name="train")
        self.stop_action = action("&Stop", self.stop_training, "Shift+F5", icon_name="stop")
        self.stop_action.setEnabled(False)
        train_menu.addAction(self.train_action)
        train_menu.addAction(self.training.pause_action)  # F6
        train_menu.addAction(self.stop_action)
        train_menu.addSeparator()
        self.find_batch_action = action("Find the largest &batch that fits…",
                                        self.find_largest_batch, None,
                                        "Try a few training steps at growing batch sizes",
                                        "find-batch")
        train_menu.addAction(self.find_batch_action)

        #: Filled by the help features (keyboard shortcuts, About).
        self.help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = action("&Keyboard shortcuts", self.show_shortcuts, "F1",
                                       "Every key of the window, read from its actions")
        self.shortcuts_action.setShortcuts([QKeySequence("F1"), QKeySequence("Ctrl+/")])
        self.help_menu.addAction(self.shortcuts_action)
        self.help_menu.addSeparator()
        self.about_action = action("&About Training Studio", self.show_about, None,
                                   "Versions of the studio, TensorFlow, Qt and Python")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.help_menu.addAction(self.about_action)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help > Keyboard shortcuts: the list is built from the actions as they are now."""
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        """Help > About: versions to copy into a bug report (TensorFlow's once loaded)."""
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(parent=self)
        self.about_dialog.set_report(self.device_report, self.tensorflow_error)
        self.about_dialog.show()
        self.about_dialog.raise_()
        return self.about_dialog

    def _update_title(self) -> None:
        path = self.document.path
        name = path.name if path else self.document.project.name
        mark = "*" if self.document.modified else ""
        self.setWindowTitle(f"{name}{mark} — Training Studio")

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_error(self, title: str, message: str) -> None:
        """Tell the user without blocking: a window-modal box, the status bar and the log."""
        self.last_error = message
        self._show_message(message)
        self.training.append_log(f"{title}: {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                          self)
        box.setAccessibleName(f"{title} error")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Offer to save, then stop a running training and the ML thread. The window keeps
        painting while a stopped training saves; a second close meanwhile is ignored."""
        if self._closing or not self.confirm_discard("quit"):
            event.ignore()
            return
        self._closing = True  # nothing new starts from here (``can_train``)
        self.session.close()  # keeps the layout; no recovery file after a clean close
        if self.runner.running:
            self.statusBar().showMessage("Stopping the training and saving what it has "
                                         "learned…")
        self.shutdown_workers()
        event.accept()

    def shutdown_workers(self) -> None:
        """Stop training (within one batch) and the ML thread; safe to call twice."""
        self.runner.stop_and_wait()
        self.evaluator.cancel_and_wait()
        self.try_model.shutdown()
        if self.batch_dialog is not None:
            self.batch_dialog.close()  # cancels its search and waits for the thread
        self.downloads.cancel_and_wait()
        self.ml.shutdown()
        self.collection.stop()
