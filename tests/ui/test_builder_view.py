"""The builder edits the stack through undoable commands and shows Keras' verdict."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core.defaults import default_project
from studio.ui.builder_view import BuilderView
from studio.ui.document import ProjectDocument


def make_builder(qtbot):
    document = ProjectDocument(default_project())
    view = BuilderView(document)
    qtbot.addWidget(view)
    return document, view


def test_shows_the_stack_and_pending_shapes_before_tensorflow(qtbot):
    _document, view = make_builder(qtbot)
    assert view.table.rowCount() == 7
    assert view.table.item(0, 0).text() == "1. Conv2D"
    assert "filters=16" in view.table.item(0, 1).text()
    assert view.table.item(0, 2).text() == "…"
    assert "Loading TensorFlow" in view.totals_label.text()


def test_add_remove_move_duplicate_and_undo(qtbot):
    document, view = make_builder(qtbot)
    view.select(3)
    view.add_layer("Dropout")
    assert [layer.type for layer in view.spec.layers][3:5] == ["Flatten", "Dropout"]
    assert view.selected_index() == 4
    view.move_layer(-1)
    assert view.spec.layers[3].type == "Dropout"
    view.duplicate_layer()
    assert [layer.type for layer in view.spec.layers][3:5] == ["Dropout", "Dropout"]
    view.remove_layer()
    assert len(view.spec.layers) == 8
    for _ in range(4):
        document.undo_stack.undo()
    assert document.project == default_project()
    assert not document.modified
    document.undo_stack.redo()
    assert len(view.spec.layers) == 8


def test_parameter_form_edits_are_undoable_and_merge(qtbot):
    document, view = make_builder(qtbot)
    view.select(4)
    units = view.form.editor("units")
    assert units.value() == 64
    assert units.minimum() == 1 and units.maximum() == 65536
    assert units.toolTip()
    units.setValue(65)
    units.setValue(66)
    assert view.spec.layers[4].params["units"] == 66
    assert "units=66" in view.table.item(4, 1).text()
    document.undo_stack.undo()  # both steps of the same spin box are one undo step
    assert view.spec.layers[4].params["units"] == 64


def test_invalid_text_value_is_refused_with_a_reason(qtbot):
    _document, view = make_builder(qtbot)
    view.add_layer("Reshape", index=0)
    view.select(0)
    messages = []
    view.message.connect(messages.append)
    editor = view.form.editor("target_shape")
    editor.setText("8, eight")
    editor.editingFinished.emit()
    assert "whole numbers separated by commas" in messages[0]
    assert view.spec.layers[0].params["target_shape"] == (8, 8, 1)
    assert editor.text() == "8, 8, 1", "the last valid value is shown again"


def test_palette_double_click_adds_and_keyboard_deletes(qtbot):
    _document, view = make_builder(qtbot)
    view.show()  # keys act on a shown, active window, as for the user
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=5000)
    view.select(6)
    dense = view.layer_palette.findItems("Dense", Qt.MatchFlag.MatchExactly |
                                         Qt.MatchFlag.MatchRecursive)[0]
    view.layer_palette.setCurrentItem(dense)
    view.layer_palette.itemActivated.emit(dense, 0)
    assert len(view.spec.layers) == 8 and view.spec.layers[7].type == "Dense"
    view.table.setFocus()
    view.select(7)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert len(view.spec.layers) == 7
    view.select(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [layer.type for layer in view.spec.layers][:2] == ["MaxPooling2D", "Conv2D"]
    qtbot.keyClick(view.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [layer.type for layer in view.spec.layers][1:3] == ["Conv2D", "Conv2D"]
    # Insert adds the palette's layer below the selected one, from anywhere in the builder.
    view.layer_palette.setCurrentItem(view.layer_palette.item_for("Dropout"))
    view.template_combo.setFocus()
    qtbot.keyClick(view.template_combo, Qt.Key.Key_Insert)
    assert [layer.type for layer in view.spec.layers][2:4] == ["Conv2D", "Dropout"]
    assert view.selected_index() == 3
    # ... but Delete in a parameter field edits the text, never the stack.
    view.select(0)
    count = len(view.spec.layers)
    view.side_tabs.setCurrentIndex(0)
    field = view.form.editor("pool_size")
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    assert len(view.spec.layers) == count


def _use_dataset(document, name):
    from dataclasses import replace

    from studio.core.dataset_spec import BuiltinSource

    project = document.project
    document.edit(replace(project, dataset=replace(project.dataset, source=BuiltinSource(name))),
                  f"Choose {name}")


def test_the_dataset_line_follows_the_data_and_asks_for_the_data_tab(qtbot):
    document, view = make_builder(qtbot)
    _use_dataset(document, "iris")
    assert view.dataset_label.text() == "Iris flowers: input (4,) → 3 classes, 150 samples"
    with qtbot.waitSignal(view.data_requested):
        qtbot.mouseClick(view.dataset_button, Qt.MouseButton.LeftButton)
    document.undo_stack.undo()
    assert "10 classes" in view.dataset_label.text()


def test_small_float_parameters_are_shown_and_editable(qtbot):
    _document, view = make_builder(qtbot)
    view.add_layer("LayerNormalization", index=0)
    epsilon = view.form.editor("epsilon")
    assert epsilon.minimum() == 1e-8 and epsilon.decimals() >= 9
    epsilon.setValue(1e-5)
    assert view.spec.layers[0].params["epsilon"] == 1e-5
    assert epsilon.textFromValue(epsilon.value()).rstrip("0").endswith("00001")


def test_keras_code_pane_follows_edits_copies_and_saves(qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication

    _document, view = make_builder(qtbot)
    pane = view.code_pane
    assert "keras.layers.Conv2D(filters=16" in pane.editor.toPlainText()
    assert pane.editor.isReadOnly()
    view.select(4)
    view.form.editor("units").setValue(48)
    assert "keras.layers.Dense(units=48" in pane.editor.toPlainText()
    pane.copy()
    assert QGuiApplication.clipboard().text() == pane.editor.toPlainText()
    saved = pane.save(tmp_path / "model.py")
    assert saved is not None and saved.read_text() == pane.editor.toPlainText()


def test_templates_adapt_to_the_dataset_and_undo(qtbot):
    document, view = make_builder(qtbot)
    _use_dataset(document, "wine")
    lenet_row = view.template_combo.findData("lenet")
    item = view.template_combo.model().item(lenet_row)
    assert not item.isEnabled() and "needs image samples" in item.toolTip()
    messages = []
    view.message.connect(messages.append)
    assert not view.apply_template("lenet") and "needs image samples" in messages[0]
    view.template_combo.setCurrentIndex(view.template_combo.findData("mlp"))
    qtbot.mouseClick(view.template_button, Qt.MouseButton.LeftButton)
    assert view.spec.layers[-1].params["units"] == 3  # wine has 3 classes
    assert view.table.rowCount() == len(view.spec.layers)
    document.undo_stack.undo()
    assert view.spec == default_project().model


def _drop(view, mime, row: int, below: bool) -> bool:
    """Deliver a real QDropEvent to the stack's viewport, as the end of a mouse drag does."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    rect = view.table.visualRect(view.table.model().index(row, 0))
    point = QPointF(rect.center().x(), rect.bottom() - 2 if below else rect.top() + 2)
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), actions, mime, buttons, keys)
    QApplication.sendEvent(view.table.viewport(), enter)
    assert enter.isAccepted(), "the stack must accept the drag"
    event = QDropEvent(point, actions, mime, buttons, keys)
    QApplication.sendEvent(view.table.viewport(), event)
    return event.isAccepted()


def test_dragging_a_row_moves_the_layer_as_one_undo_step(qtbot):
    document, view = make_builder(qtbot)
    view.resize(1100, 600)
    view.show()
    qtbot.waitExposed(view)
    types = [layer.type for layer in view.spec.layers]
    mime = view.table.mimeData([view.table.item(0, 0)])
    assert _drop(view, mime, 2, below=True)  # below row 3: the first layer becomes third
    assert [layer.type for layer in view.spec.layers] == [types[1], types[2], types[0],
                                                           *types[3:]]
    assert view.selected_index() == 2
    assert view.table.rowCount() == len(types), "the view must not remove the dragged row"
    mime = view.table.mimeData([view.table.item(2, 0)])
    _drop(view, mime, 2, below=False)  # onto itself: nothing changes
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert [layer.type for layer in view.spec.layers] == types


def test_dropping_a_palette_layer_inserts_it_where_it_is_dropped(qtbot):
    _document, view = make_builder(qtbot)
    view.resize(1100, 600)
    view.show()
    qtbot.waitExposed(view)
    mime = view.layer_palette.mimeData([view.layer_palette.item_for("Dropout")])
    assert _drop(view, mime, 1, below=False)
    assert view.spec.layers[1].type == "Dropout" and view.selected_index() == 1
    _drop(view, view.layer_palette.mimeData([view.layer_palette.item_for("Flatten")]),
          len(view.spec.layers) - 1, below=True)
    assert view.spec.layers[-1].type == "Flatten"


def test_an_input_layer_goes_to_the_top_with_the_dataset_shape(qtbot):
    _document, view = make_builder(qtbot)
    view.select(3)
    view.add_layer("Input")
    assert view.spec.layers[0].type == "Input"
    assert view.spec.layers[0].params["shape"] == (8, 8, 1)
    assert view.selected_index() == 0


def test_weight_options_are_offered_as_choices(qtbot):
    _document, view = make_builder(qtbot)
    dense_row = [layer.type for layer in view.spec.layers].index("Dense")
    view.select(dense_row)
    regularizer = view.form.editor("kernel_regularizer")
    assert not view.form.editor("regularization").isEnabled(), "unused without a regularizer"
    assert [regularizer.itemText(i) for i in range(regularizer.count())] == [
        "none", "l1", "l2", "l1_l2"]
    regularizer.setCurrentText("l2")
    assert view.spec.layers[dense_row].params["kernel_regularizer"] == "l2"
    assert view.form.editor("regularization").isEnabled()
    assert view.form.editor("kernel_initializer").currentText() == "glorot_uniform"
