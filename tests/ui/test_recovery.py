"""Auto-save to a recovery file, and the offer to restore it after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from studio.core import app_dirs
from studio.core.project import load_project, save_project
from studio.core.recovery import SUFFIX, read_recovery, write_recovery
from studio.ui.main_window import MainWindow
from tests.ui.conftest import quick_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def recovery_dir(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setattr(app_dirs, "recovery_dir", lambda: folder)
    return folder


@pytest.fixture
def make_window(qtbot, tmp_path, recovery_dir):
    def make(project=None, path=None, answer=None):
        window = MainWindow(project or quick_project(), path,
                            settings=QSettings(str(tmp_path / "s.ini"),
                                               QSettings.Format.IniFormat))
        window.ask_unsaved = lambda action, subject: "discard"
        window.asked = []
        window.ask_recover = lambda text: window.asked.append(text) or bool(answer)
        qtbot.addWidget(window)
        window.show()
        return window
    return make


def _rename(window, name):
    window.document.edit(replace(window.document.project, name=name), f"Rename to {name}")


def test_unsaved_changes_are_auto_saved_after_the_interval(make_window, recovery_dir, qtbot,
                                                           tmp_path):
    original = tmp_path / "work.json"
    save_project(quick_project(), original)
    window = make_window(load_project(original), original)
    autosave = window.session.autosave
    assert autosave.interval_ms == 60_000, "every minute by default"
    autosave.interval_ms = 50
    qtbot.wait(200)
    assert not list(recovery_dir.glob(f"*{SUFFIX}")), "nothing unsaved, nothing written"

    _rename(window, "Edited")
    with qtbot.waitSignal(autosave.saved, timeout=5000):
        pass
    files = list(recovery_dir.glob(f"*{SUFFIX}"))
    assert len(files) == 1
    recovery = read_recovery(files[0])
    assert recovery.project.name == "Edited"
    assert recovery.original_path == original.absolute()
    assert recovery.pid == os.getpid()
    assert json.loads(files[0].read_text())["original_path"] == str(original.absolute())
    assert not list(recovery_dir.glob("*.tmp*")), "written atomically, no temporary left"

    assert window.save_project()  # saved: nothing left to recover
    assert not files[0].exists()


def test_a_clean_close_removes_the_recovery_file(make_window, recovery_dir):
    window = make_window()
    _rename(window, "Edited")
    file = window.session.autosave.save_now()
    assert file is not None and file.exists()
    window.close()  # the user discards the changes (ask_unsaved)
    assert not file.exists()


def test_closing_with_unsaved_changes_still_asks(make_window):
    window = make_window()
    _rename(window, "Edited")
    file = window.session.autosave.save_now()
    asked = []
    window.ask_unsaved = lambda action, subject: asked.append((action, subject)) or "cancel"
    window.close()
    assert asked == [("quit", "project")]
    assert window.isVisible() and file.exists(), "cancelled: nothing lost"
    window.ask_unsaved = lambda action, subject: "discard"  # so that the test can close it


def test_a_running_windows_file_is_not_offered(make_window, recovery_dir):
    first = make_window()
    _rename(first, "Open elsewhere")
    first.session.autosave.save_now()
    second = make_window(answer=True)
    assert second.session.offer_recovery() is False
    assert second.asked == []


CRASH = textwrap.dedent("""
    import os, sys
    from dataclasses import replace
    from pathlib import Path
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    from studio.core import app_dirs
    from studio.core.project import load_project
    from studio.ui.main_window import MainWindow

    app_dirs.recovery_dir = lambda: Path(sys.argv[1])
    app = QApplication([])
    path = Path(sys.argv[2])
    window = MainWindow(load_project(path), path)
    project = window.document.project
    window.document.edit(replace(project, name="Unsaved work"), "Rename")
    window.session.autosave.interval_ms = 10
    window.session.autosave.saved.connect(lambda _file: os._exit(3))  # crash right after
    app.exec()
""")


def _crash_with_unsaved_changes(recovery_dir, project_file):
    done = subprocess.run([sys.executable, "-c", CRASH, str(recovery_dir), str(project_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    return list(recovery_dir.glob(f"*{SUFFIX}"))


def test_after_a_crash_the_next_launch_restores_the_unsaved_changes(make_window, recovery_dir,
                                                                   tmp_path):
    original = tmp_path / "mine.json"
    save_project(replace(quick_project(), name="Saved name"), original)
    left = _crash_with_unsaved_changes(recovery_dir, original)
    assert len(left) == 1

    window = make_window(answer=True)
    assert window.session.offer_recovery() is True
    assert len(window.asked) == 1
    assert "mine.json" in window.asked[0] and "closed unexpectedly" in window.asked[0]
    assert window.document.project.name == "Unsaved work"
    assert window.document.path == original.absolute()
    assert window.document.modified
    assert window.windowTitle().startswith("mine.json*")
    assert not left[0].exists(), "the crashed session's file is replaced by this one's"
    assert window.session.autosave.file is not None and window.session.autosave.file.exists()

    assert window.save_project()  # Save writes the recovered work to the original file
    assert load_project(original).name == "Unsaved work"
    assert not list(recovery_dir.glob(f"*{SUFFIX}"))


def test_the_offer_is_made_at_start_up(make_window, recovery_dir, qtbot):
    write_recovery(recovery_dir, "crashed", replace(quick_project(), name="Left behind"), None,
                   pid=_dead_pid())
    window = make_window(answer=True)
    window.start_background_loading()  # what the application does after the first paint
    assert window.document.project.name == "Left behind"
    assert window.document.path is None and window.document.modified
    window.close()  # stops the TensorFlow loading thread


def test_declining_discards_the_recovery_file(make_window, recovery_dir):
    file = write_recovery(recovery_dir, "crashed", replace(quick_project(), name="No thanks"),
                          None, pid=_dead_pid())
    window = make_window(answer=False)
    name = window.document.project.name
    assert window.session.offer_recovery() is False
    assert "never saved" in window.asked[0]
    assert not file.exists()
    assert window.document.project.name == name and not window.document.modified
    assert make_window(answer=True).session.offer_recovery() is False, "asked only once"


def test_a_damaged_recovery_file_is_ignored_with_a_message(make_window, recovery_dir):
    recovery_dir.mkdir(parents=True)
    damaged = recovery_dir / f"broken{SUFFIX}"
    damaged.write_text('{"format": "training-studio-recovery", "project": ', encoding="utf-8")
    window = make_window(answer=True)
    name = window.document.project.name
    assert window.session.offer_recovery() is False
    assert window.asked == []
    log = window.training.log.toPlainText()
    assert "Ignored a damaged recovery file" in log and str(damaged) in log
    assert not damaged.exists() and damaged.with_name(damaged.name + ".damaged").exists()
    assert window.document.project.name == name
    window.session.offer_recovery()
    assert window.training.log.toPlainText().count("damaged recovery file") == 1, "said once"


def test_a_recovered_project_that_is_invalid_is_ignored_too(make_window, recovery_dir):
    file = write_recovery(recovery_dir, "crashed", quick_project(), None, pid=_dead_pid())
    data = json.loads(file.read_text())
    data["project"]["training"]["epochs"] = "many"
    file.write_text(json.dumps(data))
    window = make_window(answer=True)
    assert window.session.offer_recovery() is False
    assert "recovered project is damaged" in window.training.log.toPlainText()


def test_an_unwritable_recovery_folder_is_reported_once(make_window, recovery_dir, qtbot):
    recovery_dir.parent.mkdir(parents=True, exist_ok=True)
    recovery_dir.write_text("a file where the folder should be")
    window = make_window()
    _rename(window, "Edited")
    failures = []
    window.session.autosave.failed.connect(failures.append)
    assert window.session.autosave.save_now() is None
    assert window.session.autosave.save_now() is None
    assert len(failures) == 1 and str(recovery_dir) in failures[0]
    assert "Could not auto-save" in window.training.log.toPlainText()


def _dead_pid():
    """The pid of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_running_writer_whose_start_time_is_unknown_is_not_taken_for_a_crash(tmp_path):
    """Another studio still running (its start time could not be read when it saved): its
    recovery file must not be offered, and so never deleted, by this one."""
    import os
    import time

    from studio.core.defaults import default_project
    from studio.core.recovery import Recovery
    from studio.ui.autosave import is_live

    def recovery(pid, started):
        return Recovery(tmp_path / "r.json", default_project(), None, time.time(), pid,
                        started, "other-session")

    assert is_live(recovery(os.getppid(), 0.0))  # the parent process runs
    assert not is_live(recovery(os.getppid(), 1.0))  # started long ago: a reused pid
    assert not is_live(recovery(2**22 + 12345, 0.0))  # no such process
