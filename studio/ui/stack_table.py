"""The layer stack as a table that takes drops: rows dragged to a new place, and layer types
dragged from the palette.

A drop never changes the table itself: it is reported as a signal, the builder makes the
undoable edit, and the table is redrawn from the project. So a drag is one undo step like any
other edit.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem, QWidget

from studio.ui.layer_palette import LAYER_TYPE_MIME

#: Drag payload: the 0-based row of the layer being moved.
LAYER_ROW_MIME = "application/x-studio-layer-row"


class StackTable(QTableWidget):
    row_dropped = Signal(int, int)  # from row, to row (its index once moved)
    type_dropped = Signal(str, int)  # layer type, row to insert it at

    def __init__(self, columns: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns), parent)
        self.setHorizontalHeaderLabels(list(columns))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move between layers
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def mimeTypes(self) -> list[str]:
        return [LAYER_ROW_MIME, LAYER_TYPE_MIME]

    def mimeData(self, items: Sequence[QTableWidgetItem]) -> QMimeData:
        data = QMimeData()
        rows = sorted({item.row() for item in items})
        if rows:
            data.setData(LAYER_ROW_MIME, str(rows[0]).encode())
        return data

    def drop_row(self, position: QPoint) -> int:
        """The row a drop at ``position`` (viewport coordinates) inserts before."""
        index = self.indexAt(position)
        if not index.isValid():
            return self.rowCount()
        below_middle = position.y() > self.visualRect(index).center().y()
        return index.row() + (1 if below_middle else 0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)  # draws the drop indicator
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        row = self.drop_row(event.position().toPoint())
        if mime.hasFormat(LAYER_ROW_MIME):
            source = int(bytes(mime.data(LAYER_ROW_MIME).data()).decode())
            target = row - 1 if row > source else row
            if target != source:
                self.row_dropped.emit(source, target)
        elif mime.hasFormat(LAYER_TYPE_MIME):
            self.type_dropped.emit(bytes(mime.data(LAYER_TYPE_MIME).data()).decode(), row)
        else:
            event.ignore()
            return
        # Reported as a copy so the view does not also remove the dragged row itself: the
        # builder's edit redraws the table from the project.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()

    @staticmethod
    def _accepts(mime: QMimeData) -> bool:
        return mime.hasFormat(LAYER_ROW_MIME) or mime.hasFormat(LAYER_TYPE_MIME)
