"""Recovery files: written atomically, read back exactly, damaged ones set aside."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from studio.core.csv_table import CsvImportSettings
from studio.core.dataset_spec import CsvSource, DatasetInfo, DatasetSpec
from studio.core.defaults import default_project
from studio.core.errors import ProjectError
from studio.core.recovery import (
    DAMAGED_SUFFIX,
    discard,
    find_recoveries,
    read_recovery,
    recovery_file,
    write_recovery,
)


def test_round_trip_keeps_the_project_and_its_original_file(tmp_path):
    project = replace(default_project(), name="Half done")
    original = tmp_path / "projects" / "mine.json"
    file = write_recovery(tmp_path / "rec", "s1", project, original, process_started=12.5)
    assert file == recovery_file(tmp_path / "rec", "s1")
    back = read_recovery(file)
    assert back.project == project
    assert back.original_path == original.absolute()
    assert (back.pid, back.process_started, back.session) == (os.getpid(), 12.5, "s1")
    assert "mine.json" in back.describe() and "No discards them" in back.describe()


def test_relative_data_paths_stay_relative_to_the_original_file(tmp_path):
    recorded = DatasetInfo("flowers", "flowers.csv", "classification", (4,), 3, 150, "",
                           ("a", "b", "c"))
    source = CsvSource(tmp_path / "projects" / "table.csv", CsvImportSettings("y"), recorded)
    project = replace(default_project(), dataset=DatasetSpec(source))
    file = write_recovery(tmp_path, "s", project, tmp_path / "projects" / "p.json")
    assert json.loads(file.read_text())["project"]["dataset"]["source"]["path"] == "table.csv"
    assert read_recovery(file).project.dataset == project.dataset


@pytest.mark.parametrize("text, says", [
    ("not json", "cannot be read"),
    ('{"format": "something else"}', "not a Training Studio recovery file"),
    ('{"format": "training-studio-recovery", "pid": "x"}', "header is damaged"),
])
def test_damaged_files_name_the_file_and_the_problem(tmp_path, text, says):
    file = tmp_path / "x.recovery.json"
    file.write_text(text)
    with pytest.raises(ProjectError, match=says) as raised:
        read_recovery(file)
    assert str(file) in str(raised.value)


def test_find_skips_live_sessions_sets_damaged_aside_and_sorts_newest_first(tmp_path):
    older = write_recovery(tmp_path, "older", default_project(), None, pid=1)
    newer = write_recovery(tmp_path, "newer", default_project(), None, pid=2)
    alive = write_recovery(tmp_path, "alive", default_project(), None, pid=3)
    data = json.loads(older.read_text())
    data["saved_at"] -= 100
    older.write_text(json.dumps(data))
    (tmp_path / f"bad{'.recovery.json'}").write_text("{")
    found, problems = find_recoveries(tmp_path, lambda r: r.session == "alive")
    assert [r.file for r in found] == [newer, older]
    assert alive.exists()
    assert len(problems) == 1 and "bad.recovery.json" in problems[0]
    assert (tmp_path / f"bad.recovery.json{DAMAGED_SUFFIX}").exists()
    assert find_recoveries(tmp_path, lambda r: False)[1] == [], "reported once"


def test_a_missing_folder_has_nothing_to_recover(tmp_path):
    assert find_recoveries(tmp_path / "none", lambda r: False) == ([], [])
    discard(tmp_path / "none" / "x.recovery.json")  # nothing to delete is fine


def test_the_folders_come_from_platformdirs(monkeypatch, tmp_path):
    from studio.core import app_dirs

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if os.name == "posix" and not Path("/System/Library").exists():  # XDG: Linux, BSD
        assert app_dirs.recovery_dir() == tmp_path / "data" / "training-studio" / "recovery"
        assert app_dirs.log_dir() == tmp_path / "state" / "training-studio" / "log"
    else:
        assert app_dirs.recovery_dir().name == "recovery"
