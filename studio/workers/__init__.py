"""Thin Qt adapters over ``studio.ml``: QObjects moved to QThreads that turn plain-Python
results and events into Qt signals.

``studio.ml`` is imported only inside the worker slots, on the worker thread, so importing
this package (and the window) never waits for TensorFlow.
"""
