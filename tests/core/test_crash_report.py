"""Describing an uncaught exception: one line for people, the traceback, a key for repeats."""

from __future__ import annotations

import sys

from studio.core.crash_report import describe


def _caught(error):
    try:
        raise error
    except BaseException:
        return sys.exc_info()


def _raise_here(message):
    return _caught(ValueError(message))


def test_summary_details_and_where():
    report = describe(*_raise_here("bad value\nsecond line"), where="in thread t1")
    assert report.summary == "ValueError: bad value"
    assert "Traceback (most recent call last)" in report.details
    assert "second line" in report.details
    assert "in thread t1: ValueError: bad value" in report.message
    assert "keeps running" in report.message


def test_the_same_crash_has_the_same_key_and_others_differ():
    first = describe(*_raise_here("x"))
    again = describe(*_raise_here("x"))
    other_message = describe(*_raise_here("y"))
    other_type = describe(*_caught(KeyError("x")))
    assert first.key == again.key
    assert len({first.key, other_message.key, other_type.key}) == 3


def test_an_exception_without_message_or_traceback():
    report = describe(RuntimeError, RuntimeError(), None)
    assert report.summary == "RuntimeError"
    assert report.key == ("RuntimeError", "", "")


def test_a_huge_message_is_cut_in_the_summary_only():
    report = describe(*_raise_here("z" * 1000))
    assert len(report.summary) == 300 and report.summary.endswith("...")
    assert "z" * 1000 in report.details
