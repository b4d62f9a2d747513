"""Help > Keyboard shortcuts: every key of the window, read from its real actions.

The list is generated each time from the QActions themselves (the menus in menu-bar order,
then actions that live in an area of the window, such as the model builder's stack, grouped
by the tab they belong to), and from the menu and tab titles for the Alt+letter keys; so it
cannot drift from what the keys do. Qt's own navigation keys close the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: Keys Qt itself gives every window; listed so the page is complete, not re-implemented.
QT_KEYS = (
    ("Next / previous control", "Tab, Shift+Tab"),
    ("Press the focused button, tick the focused box", "Space"),
    ("Open the focused combo box", "Space, F4"),
    ("Move in a list, table or menu", "Arrow keys"),
    ("Confirm / cancel a dialog", "Enter, Esc"),
)


@dataclass(frozen=True)
class Shortcut:
    text: str  # what the key does, as the action says it
    keys: str  # e.g. "Ctrl+S" or "F1, Ctrl+/"


def plain(text: str) -> str:
    """A menu or action text without its mnemonic marks and trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".")


def key_text(action: QAction) -> str:
    return ", ".join(seq.toString(QKeySequence.SequenceFormat.NativeText)
                     for seq in action.shortcuts() if not seq.isEmpty())


def mnemonic(text: str) -> str | None:
    """The Alt+letter key of a title such as "&File" (None without one)."""
    sequence = QKeySequence.mnemonic(text)
    return None if sequence.isEmpty() else sequence.toString(
        QKeySequence.SequenceFormat.NativeText)


def _menu_actions(menu: QMenu) -> list[QAction]:
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            submenu = action.menu()
            assert isinstance(submenu, QMenu)
            found.extend(_menu_actions(submenu))
        elif not action.isSeparator():
            found.append(action)
    return found


def _area(action: QAction, tabs: QTabWidget | None) -> str:
    """The tab an action belongs to (through the widget it was added to), else "Window"."""
    for owner in action.associatedObjects():
        if not isinstance(owner, QWidget) or tabs is None:
            continue
        for index in range(tabs.count()):
            page = tabs.widget(index)
            if page is not None and (owner is page or page.isAncestorOf(owner)):
                return plain(tabs.tabText(index))
    return "Window"


def shortcut_groups(window: QMainWindow) -> list[tuple[str, list[Shortcut]]]:
    """Every keyboard shortcut of ``window``, grouped by menu, then by area."""
    central = window.centralWidget()
    tabs = central if isinstance(central, QTabWidget) else None
    groups: dict[str, list[Shortcut]] = {}
    listed: set[int] = set()

    def add(group: str, action: QAction) -> None:
        keys = key_text(action)
        if keys and id(action) not in listed:
            listed.add(id(action))
            groups.setdefault(group, []).append(Shortcut(plain(action.text()), keys))

    menus = [a.menu() for a in window.menuBar().actions() if isinstance(a.menu(), QMenu)]
    for menu in menus:
        assert isinstance(menu, QMenu)
        for action in _menu_actions(menu):
            add(f"{plain(menu.title())} menu", action)
    for action in window.findChildren(QAction):
        add(_area(action, tabs), action)

    mnemonics = [Shortcut(f"Open the {plain(menu.title())} menu", key)
                 for menu in menus if isinstance(menu, QMenu)
                 if (key := mnemonic(menu.title())) is not None]
    if tabs is not None:
        mnemonics += [Shortcut(f"Show the {plain(tabs.tabText(i))} tab", key)
                      for i in range(tabs.count()) if (key := mnemonic(tabs.tabText(i)))]
    if mnemonics:
        groups["Underlined letters"] = mnemonics
    groups["Everywhere (Qt)"] = [Shortcut(text, keys) for text, keys in QT_KEYS]
    return list(groups.items())


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type to filter, e.g. train or Ctrl")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter the shortcuts")
        self.filter.textChanged.connect(self._filter)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.setAccessibleDescription("Grouped by menu and by area of the window; each "
                                           "row is an action and its keys.")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        bold = self.tree.font()
        bold.setBold(True)
        self._items: list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]] = []
        for group, shortcuts in shortcut_groups(window):
            top = QTreeWidgetItem(self.tree, [group])
            top.setFont(0, bold)
            top.setFirstColumnSpanned(True)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._items.append((top, [QTreeWidgetItem(top, [shortcut.text, shortcut.keys])
                                      for shortcut in shortcuts]))
        self.tree.expandAll()
        self.tree.setItemsExpandable(False)
        note = QLabel("Menu items without a key are reached with Alt and the underlined "
                      "letter, then the arrow keys.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, action, keys) of every row shown (not filtered out)."""
        return [(group.text(0), row.text(0), row.text(1)) for group, rows in self._items
                for row in rows if not row.isHidden()]

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group, rows in self._items:
            group_matches = needle in group.text(0).lower()
            visible = 0
            for row in rows:
                match = group_matches or any(needle in row.text(c).lower() for c in (0, 1))
                row.setHidden(not match)
                visible += match
            group.setHidden(visible == 0)
