"""Putting a trained model to work: checkpoints, export and latency, the HTTP service.

The top of the model stack: it may import :mod:`rnncourse.nn`, :mod:`rnncourse.data` and
:mod:`rnncourse.runtime`; nothing below imports it.
"""
