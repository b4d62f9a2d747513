"""The model builder: a palette of layers, the stack with Keras' shapes and counts, a
parameter form for the selected layer, and the validity of the whole stack.

Shapes come asynchronously from the ML service (``set_summary``); until Keras has loaded,
the table shows the stack and says shapes are pending, and the builder stays editable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import ModelSpecError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.summary import ModelSummary, format_shape
from studio.core.templates import TEMPLATES
from studio.ui.code_pane import CodePane
from studio.ui.document import ProjectDocument
from studio.ui.layer_palette import LayerPalette
from studio.ui.param_form import ParamForm
from studio.ui.stack_table import StackTable

_PROBLEM_BRUSH = QBrush(QColor(255, 205, 205))
COLUMNS = ("Layer", "Settings", "Output shape", "Params")


class BuilderView(QWidget):
    """Edits the document's layer stack and dataset choice."""

    message = Signal(str)  # refused edits, for the status bar
    data_requested = Signal()  # the user wants to change the dataset

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._summary: ModelSummary | None = None
        self._pending_text = "Loading TensorFlow…"

        self.dataset_label = QLabel()
        self.dataset_label.setAccessibleName("Dataset")
        self.dataset_button = QPushButton("Change data…")
        self.dataset_button.setAccessibleName("Change data")
        self.dataset_button.setToolTip("Choose another dataset in the Data tab")
        self.dataset_button.clicked.connect(self.data_requested)
        self.template_combo = QComboBox()
        self.template_combo.setAccessibleName("Template")
        self.template_combo.setToolTip("Replace the stack with a starting point adapted to "
                                       "the dataset (undo brings the old one back)")
        for template in TEMPLATES.values():
            self.template_combo.addItem(template.title, template.name)
        self.template_button = QPushButton("Use template")
        self.template_button.setAccessibleName("Use template")
        self.template_button.clicked.connect(
            lambda: self.apply_template(self.template_combo.currentData()))

        self.layer_palette = LayerPalette()
        self.layer_palette.itemActivated.connect(lambda *_: self.add_selected_layer())

        self.table = StackTable(COLUMNS)
        self.table.setAccessibleName("Layer stack")
        self.table.setToolTip("Drag a layer to move it; drop a layer from the palette to add "
                              "it there. Delete removes, Ctrl+D duplicates, Alt+Up/Down moves.")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.row_dropped.connect(self.move_layer_to)
        self.table.type_dropped.connect(self.add_layer)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.duplicate_button = QPushButton("Duplicate")
        self.add_button.clicked.connect(self.add_selected_layer)
        self.remove_button.clicked.connect(self.remove_layer)
        self.up_button.clicked.connect(lambda: self.move_layer(-1))
        self.down_button.clicked.connect(lambda: self.move_layer(+1))
        self.duplicate_button.clicked.connect(self.duplicate_layer)
        for button, tip in (
            (self.add_button, "Add the layer chosen in the palette below the selected layer "
                              "(Insert, or Enter in the palette)"),
            (self.remove_button, "Remove the selected layer (Delete)"),
            (self.up_button, "Move the selected layer up (Alt+Up)"),
            (self.down_button, "Move the selected layer down (Alt+Down)"),
            (self.duplicate_button, "Duplicate the selected layer (Ctrl+D)"),
        ):
            button.setToolTip(tip)
            button.setAccessibleName(button.text())
        self._make_actions()

        self.form = ParamForm()
        self.form.value_changed.connect(self._param_edited)
        self.form_box = QGroupBox("Parameters")
        form_layout = QVBoxLayout(self.form_box)
        form_layout.addWidget(self.form)
        form_layout.addStretch(1)
        self.code_pane = CodePane(document)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.form_box, "Layer")
        self.side_tabs.addTab(self.code_pane, "Keras code")
        self.side_tabs.setAccessibleName("Layer parameters and Keras code")
        self.side_tabs.tabBar().setAccessibleName("Layer parameters or Keras code")

        self.totals_label = QLabel()
        self.totals_label.setAccessibleName("Parameter totals")
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setAccessibleName("Model problems")
        self.problem_label.setStyleSheet("color: #b00020;")
        self.fix_button = QPushButton()
        self.fix_button.setAccessibleName("Apply the suggested fix")
        self.fix_button.clicked.connect(self.apply_fix)
        self.fix_button.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Data:"))
        top.addWidget(self.dataset_label, 1)
        top.addWidget(self.dataset_button)
        top.addWidget(QLabel("Start from:"))
        top.addWidget(self.template_combo)
        top.addWidget(self.template_button)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button,
                       self.duplicate_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.table, 1)
        middle_layout.addLayout(buttons)
        middle_layout.addWidget(self.totals_label)
        problems = QHBoxLayout()
        problems.addWidget(self.problem_label, 1)
        problems.addWidget(self.fix_button)
        middle_layout.addLayout(problems)
        splitter = QSplitter()
        splitter.addWidget(self.layer_palette)
        splitter.addWidget(middle)
        splitter.addWidget(self.side_tabs)
        splitter.setSizes([190, 560, 330])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        document.changed.connect(self.refresh)
        self.refresh()

    def _make_actions(self) -> None:
        """Keyboard editing of the stack as actions, so Help > Keyboard shortcuts lists them.

        Delete, Ctrl+D and Alt+Up/Down act in the stack only (Delete in a parameter field
        must edit the text, not remove the layer); Insert adds the palette's layer from
        anywhere in the builder, and Enter does the same in the palette itself.
        """
        def make(text: str, keys: tuple[str, ...], slot: Callable[[], object],
                 widget: QWidget) -> QAction:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(key) for key in keys])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            widget.addAction(action)
            return action

        self.add_action = make("Add the palette's layer below the selected one", ("Insert",),
                               self.add_selected_layer, self)
        self.remove_action = make("Remove the selected layer", ("Delete", "Backspace"),
                                  self.remove_layer, self.table)
        self.up_action = make("Move the selected layer up", ("Alt+Up",),
                              lambda: self.move_layer(-1), self.table)
        self.down_action = make("Move the selected layer down", ("Alt+Down",),
                                lambda: self.move_layer(+1), self.table)
        self.duplicate_action = make("Duplicate the selected layer", ("Ctrl+D",),
                                     self.duplicate_layer, self.table)
        # The same actions on a right click in the stack.
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    # ----- reading state -------------------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        return self._document.project.model

    def selected_index(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select(self, index: int) -> None:
        self.table.selectRow(index)

    # ----- edits (each one is an undoable document edit) -----------------------------------
    def add_layer(self, type_name: str, index: int | None = None) -> None:
        layer = LayerSpec.create(type_name)
        if type_name == "Input":  # it states the dataset's shape, and only leads the stack
            layer = layer.with_param("shape", self._document.project.dataset.info.input_shape)
            index = 0
        if index is None:
            selected = self.selected_index()
            index = len(self.spec.layers) if selected is None else selected + 1
        self._set_spec(self.spec.inserted(index, layer), f"Add {type_name}")
        self.select(index)

    def add_selected_layer(self) -> None:
        type_name = self.layer_palette.selected_type()
        if type_name:
            self.add_layer(type_name)
        else:
            self.message.emit("Choose a layer type in the palette first.")

    def remove_layer(self) -> None:
        index = self.selected_index()
        if index is None:
            return
        name = self.spec.layers[index].type
        self._set_spec(self.spec.removed(index), f"Remove {name}")
        if self.spec.layers:
            self.select(min(index, len(self.spec.layers) - 1))

    def move_layer(self, offset: int) -> None:
        index = self.selected_index()
        if index is not None:
            self.move_layer_to(index, index + offset)

    def move_layer_to(self, index: int, new_index: int) -> None:
        """Move layer ``index`` so that it ends up at ``new_index`` (one undo step)."""
        count = len(self.spec.layers)
        if not (0 <= index < count and 0 <= new_index < count) or index == new_index:
            return
        self._set_spec(self.spec.moved(index, new_index), f"Move {self.spec.layers[index].type}")
        self.select(new_index)

    def duplicate_layer(self) -> None:
        index = self.selected_index()
        if index is None:
            return
        layer = self.spec.layers[index]
        self._set_spec(self.spec.inserted(index + 1, layer), f"Duplicate {layer.type}")
        self.select(index + 1)

    def apply_template(self, name: str) -> bool:
        """Replace the stack with template ``name`` adapted to the dataset (one undo step)."""
        template = TEMPLATES[name]
        info = self._document.project.dataset.info
        reason = template.unavailable_reason(info)
        if reason:
            self.message.emit(reason)
            return False
        self._set_spec(template.build(info), f"Use template {template.title}")
        return True

    def apply_fix(self) -> None:
        """Apply the fix the analysis suggested (e.g. output units = number of classes)."""
        problem = self._summary.problems[0] if self._summary and self._summary.problems else None
        if problem is not None and problem.fix is not None:
            self._set_spec(problem.fix, problem.fix_text)

    def _param_edited(self, name: str, value: object) -> None:
        index = self.selected_index()
        if index is None:
            return
        try:
            layer = self.spec.layers[index].with_param(name, value, index)
        except ModelSpecError as error:
            self.message.emit(str(error))
            self.refresh()  # put the last valid value back in the widget
            return
        self._set_spec(self.spec.replaced(index, layer), f"Set {name}",
                       merge_key=f"layer{index}.{name}")

    def _set_spec(self, spec: ModelSpec, text: str, merge_key: str | None = None) -> None:
        project = self._document.project
        self._document.edit(replace(project, model=spec), text, merge_key)

    # ----- display -------------------------------------------------------------------------
    def set_pending(self, text: str) -> None:
        """Shapes are not known yet (TensorFlow loading, or a newer edit being analysed)."""
        self._pending_text = text
        self._summary = None
        self._show_summary()

    def set_summary(self, summary: ModelSummary) -> None:
        self._summary = summary
        self._show_summary()

    def refresh(self) -> None:
        project = self._document.project
        info = project.dataset.info
        self.dataset_label.setText(f"{info.title}: input {format_shape(info.input_shape)} → "
                                   f"{info.target_text}, {info.samples:,} samples")
        model = self.template_combo.model()
        for row, template in enumerate(TEMPLATES.values()):
            reason = template.unavailable_reason(info)
            item = model.item(row) if isinstance(model, QStandardItemModel) else None
            if item is not None:
                item.setEnabled(reason is None)
                item.setToolTip(reason or "")
        selected = self.selected_index()
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.spec.layers))
        for row, layer in enumerate(self.spec.layers):
            self._set_cell(row, 0, f"{row + 1}. {layer.type}", layer.catalog.help)
            self._set_cell(row, 1, layer.describe())
        self.table.blockSignals(False)
        if selected is not None and selected < len(self.spec.layers):
            self.table.selectRow(selected)
        self._summary = None
        self._show_summary()
        self._selection_changed()

    def _show_summary(self) -> None:
        summary = self._summary
        for row in range(self.table.rowCount()):
            problem = summary.problem_for(row) if summary else None
            data = summary.rows[row] if summary and row < len(summary.rows) else None
            shape = format_shape(data.output_shape) if data else "…"
            params = f"{data.params:,}" if data and data.params is not None else "…"
            if summary and data and data.output_shape is None:
                shape = params = "—"
            self._set_cell(row, 2, shape)
            self._set_cell(row, 3, params)
            for column in range(len(COLUMNS)):
                item = self.table.item(row, column)
                if item is None:
                    continue
                item.setBackground(_PROBLEM_BRUSH if problem else QBrush())
                if problem:
                    item.setToolTip(problem.message)
        fix = summary.problems[0] if summary and summary.problems else None
        self.fix_button.setVisible(bool(fix and fix.fix is not None))
        if fix is not None and fix.fix is not None:
            self.fix_button.setText(f"Fix: {fix.fix_text}")
        if summary is None:
            self.totals_label.setText(f"Shapes and parameter counts: {self._pending_text}")
            self.problem_label.setText("")
            return
        self.totals_label.setText(
            f"Total parameters: {summary.total_params:,} (trainable "
            f"{summary.trainable_params:,}, non-trainable {summary.non_trainable_params:,})")
        self.problem_label.setText("\n".join(p.message for p in summary.problems))

    def _set_cell(self, row: int, column: int, text: str, tip: str = "") -> None:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, column, item)
        item.setText(text)
        item.setToolTip(tip)

    def _selection_changed(self) -> None:
        index = self.selected_index()
        if index is None:
            self.form_box.setTitle("Parameters")
            self.form.show_layer(None, {})
        else:
            layer = self.spec.layers[index]
            self.form_box.setTitle(f"Layer {index + 1}: {layer.type}")
            self.form.show_layer(layer.catalog, dict(layer.params))
        has = index is not None
        up = has and index > 0  # type: ignore[operator]
        down = has and index < len(self.spec.layers) - 1  # type: ignore[operator]
        for button, action, enabled in ((self.remove_button, self.remove_action, has),
                                        (self.duplicate_button, self.duplicate_action, has),
                                        (self.up_button, self.up_action, up),
                                        (self.down_button, self.down_action, down)):
            button.setEnabled(enabled)
            action.setEnabled(enabled)
