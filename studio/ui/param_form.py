"""A form for one layer's parameters, with the right widget, range and tooltip per parameter.

Built from the catalog's ``ParamSpec``s, so a new layer type needs no new UI code. Widgets
refuse out-of-range values themselves (spin box ranges), and ``value_changed`` carries
already-typed values.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from studio.core.layer_catalog import LayerType, ParamSpec, ParamValue


class ParamForm(QWidget):
    value_changed = Signal(str, object)  # parameter name, new value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._editors: dict[str, QWidget] = {}
        self._type: LayerType | None = None
        self._empty = QLabel("Select a layer to edit its parameters.")
        self._layout.addRow(self._empty)

    @property
    def layer_type(self) -> LayerType | None:
        return self._type

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def show_layer(self, kind: LayerType | None, values: dict[str, ParamValue]) -> None:
        """Show ``kind``'s parameters; rebuild only when the type changes (keeps focus)."""
        if kind is not self._type:
            self._rebuild(kind)
        for name, editor in self._editors.items():
            editor.blockSignals(True)
            _set_value(editor, values.get(name))
            editor.blockSignals(False)
        for spec in kind.params if kind else ():
            if spec.unused_when is not None:
                other, value = spec.unused_when
                self._editors[spec.name].setEnabled(values.get(other) != value)

    def _rebuild(self, kind: LayerType | None) -> None:
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._editors = {}
        self._type = kind
        if kind is None:
            self._empty = QLabel("Select a layer to edit its parameters.")
            self._layout.addRow(self._empty)
            return
        if not kind.params:
            self._layout.addRow(QLabel(f"{kind.name} has no parameters."))
        for spec in kind.params:
            editor = self._make_editor(spec)
            editor.setToolTip(spec.help)
            editor.setAccessibleName(spec.name)
            editor.setAccessibleDescription(spec.help)
            label = QLabel(spec.name.replace("_", " "))
            label.setToolTip(spec.help)
            label.setBuddy(editor)
            self._layout.addRow(label, editor)
            self._editors[spec.name] = editor

    def _make_editor(self, spec: ParamSpec) -> QWidget:
        name = spec.name
        if spec.kind == "int":
            box = QSpinBox()
            box.setRange(int(spec.minimum or 0), int(spec.maximum or 2**31 - 1))
            box.valueChanged.connect(lambda v: self.value_changed.emit(name, int(v)))
            return box
        if spec.kind == "float":
            dbox = QDoubleSpinBox()
            # Enough decimals to show the smallest allowed value (e.g. epsilon = 1e-8).
            smallest = spec.minimum if spec.minimum and spec.minimum > 0 else 1e-4
            dbox.setDecimals(min(10, max(4, -math.floor(math.log10(smallest)) + 1)))
            dbox.setSingleStep(0.05 if (spec.maximum or 1) >= 0.5 else smallest * 10)
            dbox.setRange(spec.minimum or 0.0, spec.maximum if spec.maximum is not None else 1e9)
            dbox.valueChanged.connect(lambda v: self.value_changed.emit(name, float(v)))
            return dbox
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            combo.currentTextChanged.connect(lambda v: self.value_changed.emit(name, v))
            return combo
        if spec.kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda v: self.value_changed.emit(name, bool(v)))
            return check
        line = QLineEdit()
        line.setPlaceholderText("e.g. 8, 8, 1")
        line.editingFinished.connect(lambda: self.value_changed.emit(name, line.text()))
        return line


def _set_value(editor: QWidget, value: ParamValue | None) -> None:
    if value is None:
        return
    if isinstance(editor, QSpinBox | QDoubleSpinBox):
        editor.setValue(value)  # type: ignore[arg-type]
    elif isinstance(editor, QComboBox):
        editor.setCurrentText(str(value))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QLineEdit):
        text = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
        editor.setText(text)
