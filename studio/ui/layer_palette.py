"""The palette of layer types, grouped by kind; items can be dragged onto the stack."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from studio.core.layer_catalog import LAYER_TYPES

#: Drag payload: the catalog name of the layer type to add.
LAYER_TYPE_MIME = "application/x-studio-layer-type"


class LayerPalette(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabel("Layers")
        self.setToolTip("Double-click a layer, or select it and press Enter, to add it below "
                        "the selected layer; or drag it to where it belongs in the stack.")
        self.setAccessibleName("Layer palette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        groups: dict[str, QTreeWidgetItem] = {}
        for kind in LAYER_TYPES.values():
            group = groups.get(kind.group)
            if group is None:
                group = QTreeWidgetItem(self, [kind.group])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                groups[kind.group] = group
            item = QTreeWidgetItem(group, [kind.name])
            item.setData(0, Qt.ItemDataRole.UserRole, kind.name)
            item.setToolTip(0, kind.help)
        self.expandAll()

    def item_for(self, type_name: str) -> QTreeWidgetItem:
        found = self.findItems(type_name, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        return found[0]

    def selected_type(self) -> str | None:
        item = self.currentItem()
        name = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return name if isinstance(name, str) else None

    def mimeTypes(self) -> list[str]:
        return [LAYER_TYPE_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        names = [item.data(0, Qt.ItemDataRole.UserRole) for item in items]
        if names and isinstance(names[0], str):
            data.setData(LAYER_TYPE_MIME, names[0].encode())
        return data
