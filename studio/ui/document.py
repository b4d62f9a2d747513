"""The open project as the window sees it: the data, its file, and its undo history.

Views never mutate the project; they call ``edit`` with a new immutable ``Project``, which
goes on the QUndoStack, so every edit is undoable and the saved/unsaved state is exact.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.project import Project, load_project, save_project


class _ReplaceProject(QUndoCommand):
    """One edit. It holds its document weakly: the document owns the undo stack, which owns
    the commands, and a command holding its document would make a cycle through Qt's
    ownership that only Python's collector can break, which then deletes the undo stack with
    dangling commands (a segmentation fault in ``QUndoStack::clear`` seen in the tests)."""

    def __init__(self, document: ProjectDocument, before: Project, after: Project, text: str,
                 merge_key: str | None) -> None:
        super().__init__(text)
        self._document = weakref.ref(document)
        self._before = before
        self._after = after
        self._merge_key = merge_key

    def id(self) -> int:
        # Consecutive edits of the same field (spin box steps) merge into one undo step.
        return -1 if self._merge_key is None else hash(self._merge_key) & 0x7FFFFFFF

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _ReplaceProject) or other._merge_key != self._merge_key:
            return False
        self._after = other._after
        return True

    def redo(self) -> None:
        self._apply(self._after)

    def undo(self) -> None:
        self._apply(self._before)

    def _apply(self, project: Project) -> None:
        document = self._document()
        if document is not None:  # else the stack is going with its document
            document._set(project)


class ProjectDocument(QObject):
    changed = Signal()  # the project's content changed (edit, undo, open)
    path_changed = Signal()

    def __init__(self, project: Project, path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._path = path
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    @property
    def project(self) -> Project:
        return self._project

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def edit(self, project: Project, text: str, merge_key: str | None = None) -> None:
        if project != self._project:
            self.undo_stack.push(_ReplaceProject(self, self._project, project, text, merge_key))

    def replace(self, project: Project, path: Path | None) -> None:
        """Start over with another project (new or opened): history is cleared."""
        self.undo_stack.clear()
        self._path = path
        self._set(project)
        self.undo_stack.setClean()
        self.path_changed.emit()

    def open(self, path: Path) -> None:
        """Raises ProjectError; the current project is untouched on failure."""
        self.replace(load_project(path), path)

    def save(self, path: Path | None = None) -> None:
        target = path or self._path
        if target is None:
            raise ValueError("No file name to save to.")
        save_project(self._project, target)
        self._path = target
        self.undo_stack.setClean()
        self.path_changed.emit()

    @Slot(bool)
    def _clean_changed(self, _clean: bool) -> None:
        # A bound slot (not a lambda) so Qt drops the connection when the document goes.
        self.path_changed.emit()

    def _set(self, project: Project) -> None:
        self._project = project
        self.changed.emit()
