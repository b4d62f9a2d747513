"""Overlapping workers: automatic collection returns only when the last one has ended."""

from __future__ import annotations

import gc

from studio.workers.collection_pause import pause_collection, paused, resume_collection


def test_collection_resumes_after_the_last_holder():
    assert gc.isenabled() and not paused()
    pause_collection()  # a training
    pause_collection()  # an evaluation beside it
    assert not gc.isenabled()
    resume_collection()  # the training ends first
    assert not gc.isenabled(), "the evaluation's thread still runs TensorFlow"
    resume_collection()
    assert gc.isenabled() and not paused()
    resume_collection()  # one too many is harmless
    assert gc.isenabled()


def test_collection_stays_off_when_it_was_off():
    gc.disable()
    try:
        pause_collection()
        resume_collection()
        assert not gc.isenabled()
    finally:
        gc.enable()
