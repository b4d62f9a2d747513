"""The Data tab: choose where the data comes from, how it is split and normalised, and see it.

Every choice is an undoable edit of the project's DatasetSpec. Reading the data happens on the
ML thread (the window asks for a preview after each change); this view only shows what comes
back: split sizes, class balance, and the first rows or images.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.dataset_catalog import BUILTIN_DATASETS, GENERATED_DATASETS, KERAS_DATASETS
from studio.core.dataset_preview import SPLITS, DatasetPreview
from studio.core.dataset_spec import (
    FILE_SOURCES,
    BuiltinSource,
    DatasetSpec,
    GeneratedSource,
    ImageFolderSource,
    KerasSource,
)
from studio.core.errors import DatasetError
from studio.ui.document import ProjectDocument

if TYPE_CHECKING:
    import pyqtgraph as pg

NORMALIZATION_LABELS = {
    "auto": "Automatic (pixels to [0, 1], other data standardised)",
    "standardize": "Standardise (mean 0, variance 1)",
    "minmax": "Scale to [0, 1] (minimum and maximum)",
    "none": "None",
}
_SPLIT_COLOURS = ((31, 90, 180), (220, 110, 20), (90, 160, 90))


class DatasetView(QWidget):
    import_requested = Signal(str)  # "csv", "numpy" or "images"
    download_requested = Signal(str)  # Keras dataset name
    cancel_download_requested = Signal()
    message = Signal(str)

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._balance_plot: pg.PlotWidget | None = None
        self._bars: list[tuple[int, ...]] = []
        self._reading_stage = ""
        self._reading_since = 0.0

        self.source_tree = QTreeWidget()
        self.source_tree.setHeaderLabel("Datasets")
        self.source_tree.setAccessibleName("Dataset choice")
        self.source_tree.setToolTip("Click a dataset to use it; the model's input and output "
                                    "follow it.")
        self._items: dict[tuple[str, str], QTreeWidgetItem] = {}
        for group, kind, catalog in (("Built-in (scikit-learn)", "builtin", BUILTIN_DATASETS),
                                     ("Generated", "generated", GENERATED_DATASETS),
                                     ("Keras (downloaded once)", "keras", KERAS_DATASETS)):
            parent_item = QTreeWidgetItem(self.source_tree, [group])
            parent_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for name, entry in catalog.items():
                item = QTreeWidgetItem(parent_item, [entry.title])
                item.setData(0, Qt.ItemDataRole.UserRole, (kind, name))
                item.setToolTip(0, entry.description)
                self._items[(kind, name)] = item
        self._own_group = QTreeWidgetItem(self.source_tree, ["Your data"])
        self._own_group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self._own_item = QTreeWidgetItem(self._own_group, ["(none imported)"])
        self._own_item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.source_tree.expandAll()
        self.source_tree.currentItemChanged.connect(self._source_chosen)

        self.csv_button = QPushButton("Import CSV…")
        self.numpy_button = QPushButton("Import NumPy…")
        self.images_button = QPushButton("Import image folder…")
        for button, kind, tip in (
            (self.csv_button, "csv", "A table with one sample per row and a target column"),
            (self.numpy_button, "numpy", "An .npz file with x and y arrays, or two .npy files"),
            (self.images_button, "images", "A folder with one sub-folder of images per class"),
        ):
            button.setToolTip(tip)
            button.setAccessibleName(button.text().rstrip("…"))
            button.clicked.connect(lambda _=False, k=kind: self.import_requested.emit(k))

        self.options = QStackedWidget()
        self.options.addWidget(QLabel("No options for this dataset."))
        self.options.addWidget(self._generated_options())
        self.options.addWidget(self._keras_options())
        self.options.addWidget(self._image_options())
        self.options.addWidget(self._file_options())

        self.val_box = QSpinBox()
        self.val_box.setRange(1, 89)
        self.val_box.setSuffix(" %")
        self.test_box = QSpinBox()
        self.test_box.setRange(0, 89)
        self.test_box.setSuffix(" %")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.shuffle_check = QCheckBox("Shuffle before splitting")
        self.norm_combo = QComboBox()
        for key, label in NORMALIZATION_LABELS.items():
            self.norm_combo.addItem(label, key)
        split_box = QGroupBox("Split and normalisation")
        split_form = QFormLayout(split_box)
        for label, widget, tip in (
            ("Validation", self.val_box, "Share of the samples kept aside to watch "
                                         "over-fitting during training."),
            ("Test", self.test_box, "Share kept out of training and evaluated once when "
                                    "training ends (0: none)."),
            ("Seed", self.seed_box, "The same seed gives the same split and the same "
                                    "starting weights."),
            ("", self.shuffle_check, "Without shuffling, validation and test samples are the "
                                     "last rows of the file (for time series)."),
            ("Normalisation", self.norm_combo, "Statistics come from the training split "
                                               "only."),
        ):
            widget.setToolTip(tip)
            widget.setAccessibleName(label or "Shuffle")
            split_form.addRow(label, widget)
        self.val_box.valueChanged.connect(lambda v: self._edit_split("validation_split",
                                                                     v / 100))
        self.test_box.valueChanged.connect(lambda v: self._edit_split("test_split", v / 100))
        self.seed_box.valueChanged.connect(lambda v: self._edit_split("seed", int(v)))
        self.shuffle_check.toggled.connect(lambda v: self._edit_split("shuffle", bool(v)))
        self.norm_combo.currentIndexChanged.connect(
            lambda: self._edit_split("normalization", self.norm_combo.currentData()))

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.source_tree, 1)
        for button in (self.csv_button, self.numpy_button, self.images_button):
            left_layout.addWidget(button)
        options_box = QGroupBox("Options")
        QVBoxLayout(options_box).addWidget(self.options)
        left_layout.addWidget(options_box)
        left_layout.addWidget(split_box)

        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: bold;")
        self.summary_label = QLabel("Reading the data…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Dataset summary")
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b00020;")
        self.warning_label.setAccessibleName("Dataset problems")
        self.read_progress = QProgressBar()
        self.read_progress.setAccessibleName("Reading progress")
        self.read_progress.hide()
        self.balance_box = QGroupBox("Class balance")
        self._balance_layout = QVBoxLayout(self.balance_box)
        self.sample_table = QTableWidget()
        self.sample_table.setAccessibleName("Sample rows")
        self.sample_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sample_table.setTabKeyNavigation(False)  # Tab leaves; arrows move in it
        self.sample_table.setAccessibleDescription("The first samples as read: the target, "
                                                   "then one column per feature.")
        self.image_list = QListWidget()
        self.image_list.setAccessibleName("Sample images")
        self.image_list.setViewMode(QListView.ViewMode.IconMode)
        self.image_list.setIconSize(QSize(64, 64))
        self.image_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.image_list.setMovement(QListView.Movement.Static)
        self.image_list.setAccessibleDescription("The first images, each named by its "
                                                 "class.")
        self.samples = QStackedWidget()
        self.samples.addWidget(self.sample_table)
        self.samples.addWidget(self.image_list)
        samples_box = QGroupBox("First samples (as read, before normalisation)")
        QVBoxLayout(samples_box).addWidget(self.samples)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.title_label)
        right_layout.addWidget(self.summary_label)
        right_layout.addWidget(self.warning_label)
        right_layout.addWidget(self.read_progress)
        right_layout.addWidget(self.balance_box, 2)
        right_layout.addWidget(samples_box, 3)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([330, 750])
        QVBoxLayout(self).addWidget(splitter)

        document.changed.connect(self.refresh)
        self.refresh()

    # ----- option panels -------------------------------------------------------------------
    def _generated_options(self) -> QWidget:
        panel = QWidget()
        form = QFormLayout(panel)
        self.samples_box = QSpinBox()
        self.samples_box.setRange(20, 1_000_000)
        self.samples_box.setSingleStep(100)
        self.noise_box = QDoubleSpinBox()
        self.noise_box.setRange(0.0, 2.0)
        self.noise_box.setSingleStep(0.05)
        for label, widget, tip in (("Samples", self.samples_box, "How many points to draw."),
                                   ("Noise", self.noise_box, "How far points stray from the "
                                                             "ideal shape.")):
            widget.setToolTip(tip)
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        self.samples_box.valueChanged.connect(lambda v: self._edit_source(samples=int(v)))
        self.noise_box.valueChanged.connect(lambda v: self._edit_source(noise=float(v)))
        return panel

    def _keras_options(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.keras_label = QLabel()
        self.keras_label.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.setAccessibleName("Download dataset")
        self.download_button.setToolTip("Download the files once into the Keras cache")
        self.cancel_download_button = QPushButton("Cancel")
        self.cancel_download_button.setAccessibleName("Cancel download")
        self.cancel_download_button.setEnabled(False)
        self.download_progress = QProgressBar()
        self.download_progress.setAccessibleName("Download progress")
        self.download_progress.setFormat("%p%")
        self.download_progress.hide()
        self.download_button.clicked.connect(self._download_clicked)
        self.cancel_download_button.clicked.connect(self.cancel_download_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_download_button)
        layout.addWidget(self.keras_label)
        layout.addLayout(buttons)
        layout.addWidget(self.download_progress)
        return panel

    def _image_options(self) -> QWidget:
        panel = QWidget()
        form = QFormLayout(panel)
        self.image_path_label = QLabel()
        self.image_path_label.setWordWrap(True)
        self.height_box = QSpinBox()
        self.width_box = QSpinBox()
        for box in (self.height_box, self.width_box):
            box.setRange(8, 1024)
        self.color_combo = QComboBox()
        self.color_combo.addItems(["rgb", "grayscale"])
        form.addRow(self.image_path_label)
        for label, widget, tip in (("Height", self.height_box, "Images are resized to this."),
                                   ("Width", self.width_box, "Images are resized to this."),
                                   ("Colour", self.color_combo, "rgb: 3 channels; grayscale: "
                                                                "1 channel.")):
            widget.setToolTip(tip)
            widget.setAccessibleName(f"Image {label.lower()}")
            form.addRow(label, widget)
        self.height_box.valueChanged.connect(self._image_settings_changed)
        self.width_box.valueChanged.connect(self._image_settings_changed)
        self.color_combo.currentTextChanged.connect(self._image_settings_changed)
        return panel

    def _file_options(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setAccessibleName("Data file")
        layout.addWidget(self.file_label)
        return panel

    # ----- edits ---------------------------------------------------------------------------
    @property
    def spec(self) -> DatasetSpec:
        return self._document.project.dataset

    def choose(self, kind: str, name: str) -> None:
        """Use a built-in, generated or Keras dataset (one undo step)."""
        current = self.spec.source
        if getattr(current, "kind", None) == kind and getattr(current, "name", None) == name:
            return
        source: Any
        if kind == "builtin":
            source = BuiltinSource(name)
        elif kind == "generated":
            source = GeneratedSource(name, noise=GENERATED_DATASETS[name].default_noise)
        else:
            source = KerasSource(name)
        self.use_source(source, f"Choose dataset {source.info.title}")

    def use_source(self, source: Any, text: str) -> None:
        project = self._document.project
        self._document.edit(replace(project, dataset=replace(project.dataset, source=source)),
                            text)

    def _source_chosen(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if isinstance(data, tuple):
            self.choose(*data)

    def _edit_source(self, **changes: Any) -> None:
        source = self.spec.source
        try:
            changed = replace(source, **changes)
        except DatasetError as error:
            self.message.emit(str(error))
            self.refresh()
            return
        key = ",".join(sorted(changes))
        project = self._document.project
        self._document.edit(replace(project, dataset=replace(project.dataset, source=changed)),
                            f"Set {key}", merge_key=f"dataset.source.{key}")

    def _image_settings_changed(self) -> None:
        if isinstance(self.spec.source, ImageFolderSource):
            size = (self.height_box.value(), self.width_box.value())
            channels = 3 if self.color_combo.currentText() == "rgb" else 1
            recorded = replace(self.spec.source.recorded, input_shape=(*size, channels))
            self._edit_source(image_size=size, color_mode=self.color_combo.currentText(),
                              recorded=recorded)

    def _edit_split(self, key: str, value: object) -> None:
        project = self._document.project
        changes: dict[str, Any] = {key: value}
        try:
            dataset = replace(project.dataset, **changes)
        except DatasetError as error:
            self.message.emit(str(error))
            self.refresh()
            return
        self._document.edit(replace(project, dataset=dataset), f"Set {key}",
                            merge_key=f"dataset.{key}")

    def _download_clicked(self) -> None:
        source = self.spec.source
        if isinstance(source, KerasSource):
            self.download_requested.emit(source.name)

    # ----- display -------------------------------------------------------------------------
    def refresh(self) -> None:
        spec = self.spec
        source = spec.source
        self._set_tree_selection(source)
        for widget, value in ((self.val_box, round(spec.validation_split * 100)),
                              (self.test_box, round(spec.test_split * 100)),
                              (self.seed_box, spec.seed)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.shuffle_check.blockSignals(True)
        self.shuffle_check.setChecked(spec.shuffle)
        self.shuffle_check.blockSignals(False)
        self.norm_combo.blockSignals(True)
        self.norm_combo.setCurrentIndex(self.norm_combo.findData(spec.normalization))
        self.norm_combo.blockSignals(False)
        info = spec.info
        self.title_label.setText(f"{info.title}: input "
                                 f"{'x'.join(map(str, info.input_shape))} → {info.target_text}")
        if isinstance(source, GeneratedSource):
            self.options.setCurrentIndex(1)
            self.samples_box.blockSignals(True)
            self.samples_box.setValue(source.samples)
            self.samples_box.blockSignals(False)
            self.noise_box.blockSignals(True)
            self.noise_box.setValue(source.noise)
            self.noise_box.blockSignals(False)
        elif isinstance(source, KerasSource):
            self.options.setCurrentIndex(2)
            self.keras_label.setText(info.description)
        elif isinstance(source, ImageFolderSource):
            self.options.setCurrentIndex(3)
            self.image_path_label.setText(str(source.path))
            for box, value in ((self.height_box, source.image_size[0]),
                               (self.width_box, source.image_size[1])):
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
            self.color_combo.blockSignals(True)
            self.color_combo.setCurrentText(source.color_mode)
            self.color_combo.blockSignals(False)
        elif isinstance(source, FILE_SOURCES):
            self.options.setCurrentIndex(4)
            self.file_label.setText(f"{source.path}\n{info.description}")
        else:
            self.options.setCurrentIndex(0)

    def _set_tree_selection(self, source: Any) -> None:
        self.source_tree.blockSignals(True)
        if isinstance(source, FILE_SOURCES):
            self._own_item.setText(0, source.info.title)
            self._own_item.setToolTip(0, str(source.path))
            self._own_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.source_tree.setCurrentItem(self._own_item)
        else:
            item = self._items.get((source.kind, source.name))
            if item is not None:
                self.source_tree.setCurrentItem(item)
        self.source_tree.blockSignals(False)

    def set_downloading(self, running: bool) -> None:
        self.download_button.setEnabled(not running)
        self.cancel_download_button.setEnabled(running)
        self.download_progress.setVisible(running)
        self.download_progress.setRange(0, 0)  # busy until the size is known
        self.source_tree.setEnabled(not running)

    def set_download_progress(self, done: int, total: int, elapsed: float) -> None:
        """Bytes so far, with the speed and the time left once the size is known."""
        megabytes = done / 1e6
        text = f"{megabytes:.1f} MB"
        if total > 0:
            self.download_progress.setRange(0, 1000)
            self.download_progress.setValue(int(1000 * done / total))
            text += f" of {total / 1e6:.1f} MB"
            if done and elapsed > 0:
                left = (total - done) * elapsed / done
                text += f" · about {left:.0f} s left"
        self.download_progress.setFormat(text)

    def set_reading(self, stage: str, done: int, total: int) -> None:
        """Progress of a long read (an image folder, a big CSV), with the time left."""
        now = time.perf_counter()
        if stage != self._reading_stage or done == 0:
            self._reading_stage, self._reading_since = stage, now
        self.read_progress.show()
        self.read_progress.setRange(0, max(total, 0))
        self.read_progress.setValue(done)
        text = f"{stage}: {done:,} of {total:,}" if total > 0 else stage
        elapsed = now - self._reading_since
        if total > 0 and 0 < done < total and elapsed > 0.5:
            text += f" · about {elapsed * (total - done) / done:.0f} s left"
        self.read_progress.setFormat(text)

    def set_pending(self, text: str = "Reading the data…") -> None:
        self.summary_label.setText(text)
        self.warning_label.setText("")

    def set_error(self, message: str) -> None:
        self.read_progress.hide()
        self.summary_label.setText("The data cannot be used as it is.")
        self.warning_label.setText(message)
        if isinstance(self.spec.source, KerasSource):
            self.keras_label.setText(f"{self.spec.info.description}\n{message}")

    def set_preview(self, preview: DatasetPreview) -> None:
        self.read_progress.hide()
        self.summary_label.setText(preview.summary())
        self.warning_label.setText(preview.imbalance_warning())
        if isinstance(self.spec.source, KerasSource):
            self.keras_label.setText(f"{self.spec.info.description}\nIn the Keras cache: "
                                     "ready to use.")
        self._show_balance(preview)
        if preview.is_images:
            self._show_images(preview)
        else:
            self._show_rows(preview)

    def _show_rows(self, preview: DatasetPreview) -> None:
        self.samples.setCurrentWidget(self.sample_table)
        names = preview.feature_names
        table = self.sample_table
        table.clear()
        table.setColumnCount(len(names) + 1)
        table.setHorizontalHeaderLabels(["target", *names])
        table.setRowCount(len(preview.rows))
        for row, (values, label) in enumerate(zip(preview.rows, preview.labels, strict=False)):
            table.setItem(row, 0, QTableWidgetItem(label))
            for column, value in enumerate(values[:200]):
                table.setItem(row, column + 1, QTableWidgetItem(f"{value:.4g}"))

    def _show_images(self, preview: DatasetPreview) -> None:
        self.samples.setCurrentWidget(self.image_list)
        self.image_list.clear()
        assert preview.image_shape is not None
        height, width, channels = preview.image_shape
        fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
        for pixels, label in zip(preview.images, preview.labels, strict=False):
            image = QImage(pixels, width, height, width * channels, fmt).copy()
            pixmap = QPixmap.fromImage(image).scaled(
                64, 64, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)
            item = QListWidgetItem(QIcon(pixmap), label)
            item.setToolTip(f"class {label}")
            self.image_list.addItem(item)

    def _show_balance(self, preview: DatasetPreview) -> None:
        counts = preview.class_counts
        self.balance_box.setVisible(bool(counts[0]))
        if not counts[0]:
            return
        import pyqtgraph as pg

        if self._balance_plot is None:
            self._balance_plot = pg.PlotWidget()
            self._balance_plot.setBackground("w")
            self._balance_plot.setLabel("left", "samples")
            self._balance_plot.setAccessibleName("Class balance chart")
            self._balance_plot.addLegend(offset=(-10, 10))
            self._balance_layout.addWidget(self._balance_plot)
            # Made late: Tab must still reach it before the samples shown below it.
            QWidget.setTabOrder(self.norm_combo, self._balance_plot)
            QWidget.setTabOrder(self._balance_plot, self.sample_table)
            QWidget.setTabOrder(self.sample_table, self.image_list)
        plot = self._balance_plot
        plot.clear()
        self._bars = []
        classes = len(counts[0])
        width = 0.8 / len(SPLITS)
        for index, (split, colour) in enumerate(zip(SPLITS, _SPLIT_COLOURS, strict=True)):
            if not any(counts[index]):
                continue
            xs = [c - 0.4 + width * (index + 0.5) for c in range(classes)]
            plot.addItem(pg.BarGraphItem(x=xs, height=list(counts[index]), width=width,
                                         brush=pg.mkBrush(colour), name=split))
            self._bars.append(counts[index])
        names = preview.info.class_names or tuple(str(c) for c in range(classes))
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        total = [sum(split[c] for split in counts if split) for c in range(classes)]
        description = ", ".join(f"{name}: {count:,}" for name, count in
                                zip(names, total, strict=False))
        plot.setToolTip(description.replace(", ", "\n"))
        plot.setAccessibleDescription(f"Samples per class: {description}")

    def balance_counts(self) -> tuple[tuple[int, ...], ...]:
        """The bars drawn, per split with samples (for tests and screen readers)."""
        return tuple(self._bars)
