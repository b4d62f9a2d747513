"""The only package that imports TensorFlow and Keras; it never imports Qt.

Every function here is blocking and thread-agnostic, so it runs the same in a test, in
``studio train`` and in a worker thread behind the window.

Importing this package imports TensorFlow with its native start-up chatter silenced (CUDA
probing messages on CPU-only machines that mean nothing to a user and break the CLI's
"one line per problem" promise). Set ``STUDIO_TF_VERBOSE=1`` to see them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: absl logs from C++, below Python's sys.stderr."""
    if os.environ.get("STUDIO_TF_VERBOSE"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr (e.g. a windowed bundle)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _native_stderr_silenced():
    import tensorflow as tf

    # Probing the devices here (CUDA's cuInit) keeps its messages inside the silence too.
    tf.config.list_physical_devices()
