"""The only package that imports TensorFlow and Keras; it never imports Qt.

Every function here is blocking and thread-agnostic, so it runs the same in a test, in
``studio train`` and in a worker thread behind the window.
"""

import os

# TensorFlow's C++ start-up chatter is noise to a user; real errors still come through Python
# exceptions. A value the user set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
