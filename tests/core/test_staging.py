"""Exports appear whole or not at all, and replace only what they may."""

from __future__ import annotations

import os

import pytest

from studio.core.errors import ExportError
from studio.core.staging import staged


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_file_and_its_companion_appear_together_under_their_final_names(tmp_path):
    targets = [tmp_path / "model.py", tmp_path / "model.npz"]
    with staged(targets, overwrite=False) as staging:
        assert [p.name for p in staging] == ["model.py", "model.npz"]
        assert staging[0].parent != tmp_path  # hidden until complete
        assert not targets[0].exists()
        for path in staging:
            path.write_text(path.name)
    assert listing(tmp_path) == ["model.npz", "model.py"]
    assert targets[0].read_text() == "model.py"


def test_a_failure_leaves_nothing_and_keeps_what_was_there(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_text("old")
    with pytest.raises(RuntimeError), staged([target], overwrite=True) as (tmp,):
        tmp.write_text("half")
        raise RuntimeError("conversion failed")
    assert listing(tmp_path) == ["model.onnx"]
    assert target.read_text() == "old"


def test_an_existing_target_is_refused_without_overwrite(tmp_path):
    target = tmp_path / "model.tflite"
    target.write_text("old")
    with pytest.raises(ExportError, match=r"model\.tflite already exists; choose another name, "
                                          r"or allow overwriting it"), \
            staged([target], overwrite=False):
        pytest.fail("the body must not run")
    assert listing(tmp_path) == ["model.tflite"]


def test_a_folder_replaces_an_earlier_folder(tmp_path):
    target = tmp_path / "saved"
    (target / "variables").mkdir(parents=True)
    (target / "old.pb").write_text("old")
    with staged([target], overwrite=True) as (tmp,):
        tmp.mkdir()
        (tmp / "saved_model.pb").write_text("new")
    assert listing(target) == ["saved_model.pb"]
    assert listing(tmp_path) == ["saved"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    with staged([tmp_path / "model.onnx"], overwrite=False) as (tmp,):
        tmp.write_text("x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "model.onnx").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_path_below_a_file_says_where_it_cannot_write(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with pytest.raises(ExportError, match=r"model\.onnx: cannot write in .*not_a_folder .*"
                                          r"choose a folder you can write to"), \
            staged([blocker / "model.onnx"], overwrite=False):
        pytest.fail("the body must not run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_says_where_it_cannot_write(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ExportError, match=r"cannot write in .*locked"), \
                staged([folder / "model.onnx"], overwrite=False):
            pytest.fail("the body must not run")
    finally:
        folder.chmod(0o755)
    assert listing(folder) == []


def test_a_writer_that_wrote_nothing_is_an_error(tmp_path):
    with pytest.raises(ExportError, match="wrote nothing"), \
            staged([tmp_path / "model.onnx"], overwrite=False):
        pass
    assert listing(tmp_path) == []
