"""Models and what runs them: padded recurrent layers, decoding, sampling, the course's models.

Imports only :mod:`rnncourse.runtime` below it; training, deployment and grading build on it.
"""
