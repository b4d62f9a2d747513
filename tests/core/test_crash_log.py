"""The log file: in the user's log folder, else a fallback, else none; never a failed start."""

from __future__ import annotations

import logging
import os

import pytest

from studio.core.crash_log import LOG_NAME, close_log, open_log


def test_the_log_goes_to_the_preferred_folder(tmp_path):
    log = open_log(tmp_path / "log", tmp_path / "fallback")
    try:
        assert log.path == tmp_path / "log" / LOG_NAME and log.note == ""
        logging.getLogger("studio.somewhere").error("written down")
        assert "ERROR studio.somewhere: written down" in log.path.read_text(encoding="utf-8")
        open_log(tmp_path / "log")  # again: replaces its handler, does not log twice
        logging.getLogger("studio").warning("once")
        assert log.path.read_text(encoding="utf-8").count("once") == 1
    finally:
        close_log()


def test_an_unusable_log_folder_falls_back_and_says_so(tmp_path):
    blocked = tmp_path / "log"
    blocked.write_text("a file where the folder should be")
    log = open_log(blocked, tmp_path / "fallback")
    try:
        assert log.path == tmp_path / "fallback" / LOG_NAME
        assert str(blocked) in log.note and str(log.path) in log.note
        assert "Could not write the log in" in log.path.read_text(encoding="utf-8")
    finally:
        close_log()


def test_no_usable_folder_at_all_still_starts_without_a_file(tmp_path):
    (tmp_path / "a").write_text("")
    (tmp_path / "b").write_text("")
    log = open_log(tmp_path / "a", tmp_path / "b")
    assert log.path is None
    assert "not logged to a file" in log.note


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_log_folder_falls_back(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        log = open_log(folder, tmp_path / "fallback")
        assert log.path == tmp_path / "fallback" / LOG_NAME and str(folder) in log.note
    finally:
        folder.chmod(0o700)
        close_log()
