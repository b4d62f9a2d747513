"""DeferredWrites: a run's bookkeeping written off the training thread, newest per file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from studio.core.deferred_writes import DeferredWrites


def _writer(log: list[tuple[str, str]], name: str, text: str, path: Path):
    def write() -> None:
        path.write_text(text)
        log.append((name, threading.current_thread().name))
    return write


def test_writes_happen_on_their_own_thread_and_flush_waits_for_them(tmp_path):
    writes = DeferredWrites()
    log: list[tuple[str, str]] = []
    try:
        writes.write(tmp_path / "a", _writer(log, "a", "1", tmp_path / "a"))
        writes.flush()
        assert (tmp_path / "a").read_text() == "1"
        assert log == [("a", "studio-run-files")]
    finally:
        writes.close()
    assert not any(t.name == "studio-run-files" for t in threading.enumerate())


def test_a_newer_write_replaces_one_still_waiting(tmp_path):
    writes = DeferredWrites()
    log: list[tuple[str, str]] = []
    started, release = threading.Event(), threading.Event()

    def held() -> None:
        started.set()
        release.wait(10)
        log.append(("held", ""))

    try:
        writes.write(tmp_path / "held", held)
        assert started.wait(10)  # the thread is busy: the next writes wait
        for text in ("1", "2", "3"):
            writes.write(tmp_path / "h", _writer(log, f"h{text}", text, tmp_path / "h"))
        writes.write(tmp_path / "r", _writer(log, "r", "r", tmp_path / "r"))
        release.set()
        writes.flush()
    finally:
        release.set()
        writes.close()
    assert [name for name, _ in log] == ["held", "h3", "r"]
    assert (tmp_path / "h").read_text() == "3"


def test_close_writes_everything_still_queued(tmp_path):
    writes = DeferredWrites()
    log: list[tuple[str, str]] = []
    for name in ("a", "b", "c"):
        writes.write(tmp_path / name, _writer(log, name, name, tmp_path / name))
    writes.close()
    assert sorted(name for name, _ in log) == ["a", "b", "c"]
    with pytest.raises(RuntimeError, match="closed"):
        writes.write(tmp_path / "d", _writer(log, "d", "d", tmp_path / "d"))


def test_a_failed_write_is_raised_in_the_callers_thread(tmp_path):
    writes = DeferredWrites()

    def full() -> None:
        raise OSError(28, "No space left on device")

    writes.write(tmp_path / "a", full)
    with pytest.raises(OSError, match="No space left"):
        writes.flush()
    writes.flush()  # raised once
    writes.close()


def test_without_a_thread_each_write_is_done_at_once(tmp_path):
    writes = DeferredWrites(background=False)
    log: list[tuple[str, str]] = []
    writes.write(tmp_path / "a", _writer(log, "a", "1", tmp_path / "a"))
    assert log == [("a", threading.current_thread().name)]
    writes.close()


def test_a_file_is_written_at_most_once_an_interval_and_flush_writes_it_now(tmp_path):
    """Each write is work on the training's cores: the newest text of a file waits for its
    interval, unless a flush asks for it."""
    writes = DeferredWrites(min_interval_s=0.2)
    log: list[tuple[str, str]] = []
    path = tmp_path / "h"
    try:
        start = time.monotonic()
        for number in range(30):  # 30 epochs' history within about 0.3 s
            writes.write(path, _writer(log, str(number), str(number), path))
            time.sleep(0.01)
        queued_for = time.monotonic() - start
        writes.flush()
        flushed = len(log)
        assert path.read_text() == "29"
        assert flushed <= queued_for / 0.2 + 2, f"{flushed} writes in {queued_for:.2f} s"
        writes.write(path, _writer(log, "late", "late", path))  # due in up to 0.2 s
        deadline = time.monotonic() + 10
        while path.read_text() != "late":  # written without a flush, once due
            assert time.monotonic() < deadline, "a queued write never happened"
            time.sleep(0.01)
    finally:
        writes.close()
    assert [name for name, _ in log][-2:] == ["29", "late"]
