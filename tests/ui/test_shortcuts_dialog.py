"""Help > Keyboard shortcuts lists every key of the window, read from its real actions, and
no two actions (or Alt+letter titles) share a key."""

from __future__ import annotations

from collections import defaultdict

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from studio.ui.shortcuts_dialog import ShortcutsDialog, key_text, mnemonic, plain


@pytest.fixture
def main(active_window):
    """The real window, without TensorFlow (the keys do not need it), with its plots."""
    active_window.training.create_plots()
    return active_window


def keyed_actions(window) -> list[QAction]:
    return [action for action in window.findChildren(QAction) if action.shortcuts()]


def open_with(qtbot, window, keys: str) -> ShortcutsDialog:
    qtbot.keySequence(QApplication.focusWidget() or window, QKeySequence(keys))
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ShortcutsDialog),
                    timeout=5000)
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ShortcutsDialog)
    return dialog


def test_no_two_actions_share_a_key(main):
    owners: dict[str, list[str]] = defaultdict(list)
    for action in keyed_actions(main):
        for sequence in action.shortcuts():
            owners[sequence.toString()].append(plain(action.text()))
    clashes = {key: names for key, names in owners.items() if len(names) > 1}
    assert not clashes, f"keys bound to several actions: {clashes}"
    # The keys asked of the window exist.
    assert {"F1", "Ctrl+/", "F5", "F6", "Shift+F5", "Ctrl+Shift+E", "Ctrl+S", "Ctrl+O",
            "Del", "Ins", "Alt+Up", "Alt+Down", "Ctrl+1", "Ctrl+6", "Ctrl+PgDown",
            "Ctrl+PgUp"} <= set(owners) | {QKeySequence(k).toString() for k in owners}


def test_no_two_titles_share_an_alt_letter(main):
    titles = [a.text() for a in main.menuBar().actions()]
    titles += [main.tabs.tabText(i) for i in range(main.tabs.count())]
    letters = [mnemonic(title) for title in titles]
    assert None not in letters, f"a menu or tab without an underlined letter: {titles}"
    assert len(set(letters)) == len(letters), f"Alt+letter clash among {titles}"
    for menu_action in main.menuBar().actions():
        menu = menu_action.menu()
        assert isinstance(menu, QMenu)
        inside = [mnemonic(a.text()) for a in menu.actions() if not a.isSeparator()]
        inside = [letter for letter in inside if letter]
        assert len(set(inside)) == len(inside), f"letters clash in the {menu.title()} menu"


def test_f1_lists_every_keyed_action_grouped_by_menu_and_area(main, qtbot):
    dialog = open_with(qtbot, main, "F1")
    rows = dialog.rows()
    listed = {(text, keys) for _group, text, keys in rows}
    for action in keyed_actions(main):
        assert (plain(action.text()), key_text(action)) in listed, action.text()
    groups = defaultdict(list)
    for group, text, keys in rows:
        groups[group].append((text, keys))
    assert ("Train", "F5") in groups["Training menu"]
    assert ("Pause", "F6") in groups["Training menu"]
    assert ("Stop", "Shift+F5") in groups["Training menu"]
    assert ("Keyboard shortcuts", "F1, Ctrl+/") in groups["Help menu"]
    assert ("Model builder", "Ctrl+2") in groups["View menu"]
    assert ("Remove the selected layer", "Del, Backspace") in groups["Model builder"]
    assert ("Open the File menu", "Alt+F") in groups["Underlined letters"]
    assert ("Show the Evaluate tab", "Alt+L") in groups["Underlined letters"]
    assert [group for group, _ in dialog_groups(rows)][:2] == ["File menu", "Edit menu"]

    # The filter keeps matching rows only.
    qtbot.keyClicks(dialog.filter, "pause")
    assert [text for _group, text, _keys in dialog.rows()] == ["Pause"]
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


def dialog_groups(rows):
    seen: dict[str, int] = {}
    for group, _text, _keys in rows:
        seen.setdefault(group, len(seen))
    return sorted(seen.items(), key=lambda item: item[1])


def test_the_list_follows_the_actions_as_they_are(main, qtbot):
    """Generated, not written down: a new action appears, a changed key changes."""
    extra = QAction("Frobnicate the layers", main.builder.table)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    main.builder.table.addAction(extra)
    main.training.pause_action.setShortcut(QKeySequence("F8"))
    dialog = open_with(qtbot, main, "Ctrl+/")
    rows = dialog.rows()
    assert ("Model builder", "Frobnicate the layers", "Ctrl+Alt+J") in rows
    assert ("Training menu", "Pause", "F8") in rows
    dialog.reject()


def test_the_dialog_reads_well(main, qtbot, tmp_path):
    dialog = main.show_shortcuts()
    qtbot.waitExposed(dialog)
    assert dialog.tree.accessibleName() and dialog.filter.accessibleName()
    assert dialog.windowTitle() == "Keyboard shortcuts"
    assert dialog.grab().save(str(tmp_path / "shortcuts.png"))
    dialog.reject()
