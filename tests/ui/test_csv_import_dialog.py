"""The CSV import dialog on real files: detection, preview, choices, summary and errors."""

from __future__ import annotations

import gc
import weakref
from functools import partial

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from studio.core.csv_table import CsvImportSettings
from studio.core.dataset_spec import CsvSource
from studio.core.errors import DatasetError
from studio.ui import csv_import_dialog
from studio.ui.csv_import_dialog import CsvImportDialog

PEOPLE = """age;colour;height;species
23;red;1.70;setosa
31;blue;1.82;versicolor
45;green;1.65;virginica
52;red;;setosa
29;blue;1.75;versicolor
38;NA;1.80;virginica
"""
SPECIES = "3 classes: setosa, versicolor, virginica"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def open_dialog(qtbot, path, current=None):
    dialog = CsvImportDialog(path, current)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    return dialog


def headers(dialog):
    table = dialog.preview
    return [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]


def checked(dialog):
    items = [dialog.features_list.item(i) for i in range(dialog.features_list.count())]
    return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]


@pytest.fixture
def people(tmp_path):
    return write(tmp_path, "people.csv", PEOPLE)


def test_reads_in_the_background_then_shows_detected_dialect_and_preview(qtbot, people):
    dialog = CsvImportDialog(people)
    qtbot.addWidget(dialog)
    assert dialog.busy and not dialog.progress.isHidden()
    assert dialog.progress.format() == "Reading people.csv…"
    assert dialog.summary_label.text() == "Reading people.csv…"
    assert not dialog.import_button.isEnabled()
    dialog.accept()  # ignored while reading
    assert dialog.result() == 0
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)

    assert dialog.windowTitle() == "Import CSV — people.csv"
    assert "people.csv" in dialog.file_label.text()
    assert dialog.progress.isHidden()
    assert dialog.delimiter_combo.currentData() == ";"
    assert dialog.delimiter_combo.currentText() == "semicolon"
    assert dialog.header_check.isChecked()
    assert dialog.preview.rowCount() == 6
    assert headers(dialog) == ["age\nnumeric", "colour\ncategorical", "height\nnumeric",
                               "species\ncategorical"]
    assert dialog.preview.item(0, 1).text() == "red"
    assert dialog.preview.item(5, 1).text() == ""  # "NA" is a missing value
    tip = dialog.preview.horizontalHeaderItem(1).toolTip()
    assert "1 missing" in tip and "3 distinct values" in tip and "red, blue, green" in tip
    assert dialog.target_combo.currentText() == "species"
    assert checked(dialog) == ["age", "colour", "height"]
    species = dialog.features_list.item(3)
    assert not species.flags() & Qt.ItemFlag.ItemIsEnabled
    assert dialog.task_combo.currentText() == "Automatic (classification)"
    assert dialog.summary_label.text() == (
        "6 rows → 4 used (2 dropped for missing values) · 5 input values after one-hot "
        f"encoding · {SPECIES}")
    assert dialog.problem is None and dialog.import_button.isEnabled()


def test_target_and_feature_choices_reach_summary_and_source(qtbot, people):
    dialog = open_dialog(qtbot, people)
    dialog.target_combo.setCurrentText("colour")
    assert checked(dialog) == ["age", "height", "species"]  # old target becomes a feature
    assert not dialog.features_list.item(1).flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.features_list.item(2).setCheckState(Qt.CheckState.Unchecked)  # height
    assert checked(dialog) == ["age", "species"]
    assert dialog.summary_label.text() == (
        "6 rows → 5 used (1 dropped for missing values) · 4 input values after one-hot "
        "encoding · 3 classes: blue, green, red")
    with pytest.raises(RuntimeError):
        dialog.source()

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == 1
    source = dialog.source()
    assert isinstance(source, CsvSource) and source.path == people
    assert source.settings == CsvImportSettings(
        target="colour", features=("age", "species"), missing="drop", task="auto",
        delimiter=";", header=True)
    assert dialog.settings() == source.settings
    info = source.recorded
    assert (info.name, info.title, info.task) == ("people", "people.csv", "classification")
    assert info.input_shape == (4,)
    assert info.class_names == ("blue", "green", "red") and info.num_classes == 3
    assert info.samples == 5 and info.outputs == 1
    assert "people.csv" in info.description


def test_all_features_saved_as_none_and_unchecking_all_is_a_problem(qtbot, people):
    dialog = open_dialog(qtbot, people)
    assert dialog.settings().features is None
    for row in range(3):
        dialog.features_list.item(row).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.problem == "Check at least one feature column for the model to learn from."
    assert dialog.summary_label.text() == dialog.problem
    assert "b00020" in dialog.summary_label.styleSheet()
    assert not dialog.import_button.isEnabled()
    dialog.accept()
    assert dialog.result() == 0
    dialog.features_list.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.summary_label.text() == (
        f"6 rows → 6 used · 1 input value · {SPECIES}")
    assert dialog.import_button.isEnabled() and dialog.summary_label.styleSheet() == ""


def test_missing_values_drop_or_fill(qtbot, people):
    dialog = open_dialog(qtbot, people)
    assert dialog.missing_combo.currentText() == "Drop rows with a missing value"
    assert dialog.summary_label.text().startswith("6 rows → 4 used (2 dropped")
    dialog.missing_combo.setCurrentIndex(dialog.missing_combo.findData("fill"))
    assert dialog.missing_combo.currentText() == "Fill with the column mean / most frequent value"
    assert dialog.summary_label.text() == (
        f"6 rows → 6 used · 5 input values after one-hot encoding · {SPECIES}")
    dialog.accept()
    assert dialog.source().settings.missing == "fill"
    assert dialog.source().recorded.samples == 6


def test_task_override_to_regression_on_a_numeric_target(qtbot, tmp_path):
    rows = [f"{40 + 10 * i},{2 + i % 3}" for i in range(12)]
    dialog = open_dialog(qtbot, write(tmp_path, "flats.csv", "size,rooms\n" + "\n".join(rows)))
    assert dialog.delimiter_combo.currentText() == "comma"
    assert dialog.target_combo.currentText() == "rooms"
    assert dialog.task_combo.currentText() == "Automatic (classification)"
    assert dialog.summary_label.text() == "12 rows → 12 used · 1 input value · 3 classes: 2, 3, 4"
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("regression"))
    assert dialog.summary_label.text() == (
        "12 rows → 12 used · 1 input value · predicting a number (regression) for 'rooms'")
    dialog.accept()
    info = dialog.source().recorded
    assert info.task == "regression" and info.num_classes == 0 and info.class_names == ()
    assert info.input_shape == (1,) and info.samples == 12 and info.outputs == 1
    assert dialog.settings().task == "regression"


def test_regression_on_a_text_target_is_refused(qtbot, people):
    dialog = open_dialog(qtbot, people)
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("regression"))
    assert dialog.problem is not None
    assert dialog.problem.startswith("Target column 'species' in people.csv holds text")
    assert not dialog.import_button.isEnabled()
    dialog.target_combo.setCurrentText("age")
    assert dialog.problem is None and dialog.import_button.isEnabled()
    assert dialog.summary_label.text().endswith("predicting a number (regression) for 'age'")


def test_ragged_file_shows_the_error_and_cannot_be_imported(qtbot, tmp_path):
    dialog = open_dialog(qtbot, write(tmp_path, "bad.csv", "a,b,c\n1,2,3\n4,5\n"))
    assert dialog.problem == ("bad.csv row 3 has 2 values but the first row has 3; check that "
                              "row for a missing or extra comma.")
    assert dialog.summary_label.text() == dialog.problem
    assert "b00020" in dialog.summary_label.styleSheet()
    assert not dialog.import_button.isEnabled()
    assert dialog.preview.rowCount() == 0 and dialog.target_combo.count() == 0
    assert dialog.delimiter_combo.isEnabled() and not dialog.target_combo.isEnabled()
    with pytest.raises(DatasetError):
        dialog.settings()
    dialog.accept()
    assert dialog.result() == 0


def test_file_that_is_not_utf8_shows_the_error(qtbot, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,size\ncaf\xe9,1\nbar,2\n".encode("latin-1"))
    dialog = open_dialog(qtbot, path)
    assert dialog.problem is not None and "latin.csv is not UTF-8 text" in dialog.problem
    assert not dialog.import_button.isEnabled()


def test_header_and_delimiter_changes_read_again(qtbot, people):
    dialog = open_dialog(qtbot, people)
    dialog.header_check.setChecked(False)
    assert dialog.busy
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert not dialog.header_check.isChecked()
    assert dialog.preview.rowCount() == 7
    assert headers(dialog) == ["column_1\ncategorical", "column_2\ncategorical",
                               "column_3\ncategorical", "column_4\ncategorical"]
    assert dialog.preview.item(0, 0).text() == "age"
    assert dialog.target_combo.currentText() == "column_4"
    assert checked(dialog) == ["column_1", "column_2", "column_3"]
    assert dialog.settings().header is False

    dialog.header_check.setChecked(True)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert dialog.target_combo.currentText() == "species" and dialog.preview.rowCount() == 6

    dialog.delimiter_combo.setCurrentIndex(dialog.delimiter_combo.findData(","))
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert dialog.delimiter_combo.currentText() == "comma"
    assert headers(dialog) == ["age;colour;height;species\ncategorical"]
    assert dialog.problem is not None and "has only the target column" in dialog.problem
    assert not dialog.import_button.isEnabled()


def test_current_settings_are_shown_again(qtbot, people):
    current = CsvImportSettings(target="colour", features=("age",), missing="fill",
                                task="classification", delimiter=";", header=True)
    dialog = open_dialog(qtbot, people, current)
    assert dialog.target_combo.currentText() == "colour"
    assert checked(dialog) == ["age"]
    assert dialog.missing_combo.currentData() == "fill"
    assert dialog.task_combo.currentText() == "Classification"
    assert dialog.summary_label.text() == (
        "6 rows → 5 used (1 dropped for missing values) · 1 input value · "
        "3 classes: blue, green, red")
    assert dialog.settings() == current


def test_large_table_is_summarised_from_a_sample_and_encoded_whole_on_import(
        qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_import_dialog, "FULL_ENCODE_LIMIT", 20)
    monkeypatch.setattr(csv_import_dialog, "SAMPLE_ROWS", 10)
    rows = [f"{i},{'yes' if i % 2 else 'no'}" for i in range(30)]
    dialog = open_dialog(qtbot, write(tmp_path, "big.csv", "x,label\n" + "\n".join(rows)))
    assert dialog.preview.rowCount() == 30
    assert dialog.summary_label.text() == (
        "10 rows → 10 used · 1 input value · 2 classes: no, yes\n"
        "Estimated from the first 10 of 30 rows; the whole table is encoded on Import.")
    dialog.accept()
    assert dialog.busy and dialog.result() == 0
    assert dialog.summary_label.text() == "Encoding all 30 rows of big.csv…"
    qtbot.waitUntil(lambda: dialog.result() == 1, timeout=10000)
    assert dialog.source().recorded.samples == 30


def test_every_control_is_named_described_and_in_tab_order(qtbot, people):
    dialog = open_dialog(qtbot, people)
    controls: list[QWidget] = [
        dialog.file_label, dialog.delimiter_combo, dialog.header_check, dialog.progress,
        dialog.preview, dialog.target_combo, dialog.features_list, dialog.missing_combo,
        dialog.task_combo, dialog.summary_label, dialog.import_button, dialog.cancel_button]
    for widget in controls:
        assert widget.accessibleName(), widget
        assert widget.toolTip(), widget.accessibleName()
    dialog.show()
    dialog.delimiter_combo.setFocus()
    seen = []
    for _ in range(8):
        dialog.focusNextChild()
        seen.append(dialog.focusWidget().accessibleName())
    assert seen == ["First row is a header", "Preview", "Target", "Features", "Missing values",
                    "Task", "Import", "Cancel"]
    dialog.reject()
    assert dialog.result() == 0


def _idle(dialog) -> bool:
    return not dialog.busy


def test_dialog_is_freed_without_the_garbage_collector(qtbot, people):
    # A reference cycle would leave the dialog to the collector, which may run on a worker
    # thread and destroy Qt widgets there.
    dialog = CsvImportDialog(people)
    qtbot.waitUntil(partial(_idle, dialog), timeout=10000)
    freed = weakref.ref(dialog)
    gc.disable()
    try:
        del dialog
        assert freed() is None
    finally:
        gc.enable()
