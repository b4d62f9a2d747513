"""Automatic garbage collection is paused while any TensorFlow worker thread runs.

A collection on the UI thread that frees TensorFlow objects can wait for a lock a worker holds
while it traces, while the worker waits for the interpreter lock: a deadlock seen in CI. And a
collection on a worker thread can destroy Qt widgets off the UI thread, another deadlock seen
in a test. So runners pause automatic collection when their thread starts and resume it when
it ends, and garbage is collected then, on the UI thread. Several runners may overlap (a
training and an evaluation): collection comes back only when the last one has ended.
Called on the UI thread only.
"""

from __future__ import annotations

import gc

_holders = 0
_was_enabled = False
_frozen = False


def pause_collection() -> None:
    global _holders, _was_enabled
    if _holders == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holders += 1


def resume_collection() -> None:
    """Collect now (no worker is tracing) once the last paused worker has ended."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0 and _was_enabled:
        gc.enable()
        gc.collect()


def freeze_long_lived() -> None:
    """Put everything alive now (Qt, TensorFlow, Keras, the window) out of the collector's
    reach, so that later collections walk only what was made since: the collection at the
    end of a training then takes milliseconds instead of the 0.3 s that froze the window.
    Called once TensorFlow has loaded; once per process (later windows add little)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def paused() -> bool:
    return _holders > 0
