"""The project document: undoable edits, and a lifetime that never needs the collector."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace

from studio.core.defaults import default_project
from studio.ui.document import ProjectDocument


def _rename(document, name):
    document.edit(replace(document.project, name=name), f"Rename to {name}")


def test_edits_undo_and_redo_and_track_the_saved_state(qtbot, tmp_path):
    document = ProjectDocument(default_project())
    original = document.project.name
    _rename(document, "First")
    _rename(document, "Second")
    assert document.modified and document.project.name == "Second"
    document.undo_stack.undo()
    assert document.project.name == "First"
    document.undo_stack.undo()
    assert document.project.name == original and not document.modified
    document.undo_stack.redo()
    document.save(tmp_path / "p.json")
    assert not document.modified and document.path == tmp_path / "p.json"


def test_a_document_with_history_is_freed_without_the_collector(qtbot):
    """Its undo commands must not hold it: the cycle they would make through Qt's ownership
    is freed only by the collector, which then crashed in QUndoStack::clear."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        document = ProjectDocument(default_project())
        for name in ("First", "Second", "Third"):
            _rename(document, name)
        document.undo_stack.undo()
        gone = weakref.ref(document)
        del document
        assert gone() is None, "the document outlived its last reference"
    finally:
        if was_enabled:
            gc.enable()
