"""Moving between the main window's tabs from the keyboard: the View menu's Ctrl+1..9 and
Ctrl+PgUp/PgDown, each landing the focus inside the tab shown.

QTabWidget's own Ctrl+Tab only works while the focus is on the tab widget itself (inside a
nested tab widget it switches the inner tabs), and switching pages leaves the focus where it
was; so a keyboard user needs both a key per tab and the focus following the page.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QTabWidget, QWidget


def make_view_menu(window: QMainWindow, tabs: QTabWidget) -> QMenu:
    """A "View" menu with one action per tab (Ctrl+1..9) and next/previous tab."""
    menu = window.menuBar().addMenu("&View")
    for index in range(min(tabs.count(), 9)):
        action = menu.addAction(tabs.tabText(index).replace("&", ""))
        action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.setStatusTip(f"Show the {tabs.tabText(index).replace('&', '')} tab")
        action.triggered.connect(partial(show_tab, tabs, index))
    menu.addSeparator()
    for text, key, step in (("&Next tab", "Ctrl+PgDown", 1), ("&Previous tab", "Ctrl+PgUp", -1)):
        action = menu.addAction(text)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(partial(step_tab, tabs, step))
    return menu


def step_tab(tabs: QTabWidget, step: int, _checked: bool = False) -> None:
    """Show the next (1) or previous (-1) tab, wrapping around."""
    show_tab(tabs, (tabs.currentIndex() + step) % tabs.count())


def show_tab(tabs: QTabWidget, index: int, _checked: bool = False) -> None:
    """Show tab ``index`` and put the focus in it: where it was last, else its first control."""
    tabs.setCurrentIndex(index)
    page = tabs.widget(index)
    if page is None:
        return
    target: QWidget | None = page.focusWidget()
    if target is None or not _can_focus(target) or not page.isAncestorOf(target):
        target = first_focusable(page)
    if target is not None:
        target.setFocus(Qt.FocusReason.TabFocusReason)


def first_focusable(page: QWidget) -> QWidget | None:
    """The first control that Tab reaches in ``page`` (in the window's focus chain)."""
    widget = page.nextInFocusChain()
    for _ in range(5000):  # the chain is circular and holds the whole window
        if widget is None or widget is page:
            return None
        if page.isAncestorOf(widget) and _can_focus(widget):
            return widget
        widget = widget.nextInFocusChain()
    return None


def _can_focus(widget: QWidget) -> bool:
    return (widget.isVisible() and widget.isEnabled()
            and bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus))
