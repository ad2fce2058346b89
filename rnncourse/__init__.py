"""rnncourse: the helper library of the course "Recurrent Neural Networks in PyTorch".

Public names are few and stable. The top level holds the profile helpers; the rest lives in
small submodules, each listing its public names in ``__all__``:

``rnncourse.device``          choosing a device, moving batches, mixed precision, seeding
``rnncourse.threads``         how many CPU threads torch uses (the free cores, or RNNCOURSE_THREADS)
``rnncourse.data``            datasets (downloaded safely or from a mirror), tokenizer, vocabulary,
                              batching, contiguous streams for truncated BPTT
``rnncourse.train``           the one training loop every chapter uses (``fit``), ``predict``, history
``rnncourse.padded``          recurrent layers on padded batches, exactly as packed (fast on a CPU)
``rnncourse.decoding``        batched greedy decoding and beam search for any decoder step
``rnncourse.language_model``  a character language model and stateful generation
``rnncourse.sampling``        one token from logits: temperature, top-k, top-p
``rnncourse.models``          chapter 6's sentiment classifier (the model chapter 8 deploys)
``rnncourse.checkpoint``      versioned model files that carry their vocabulary
``rnncourse.latency``         timing, percentiles, ONNX export and a load test
``rnncourse.serve``           the HTTP service behind ``rnncourse serve``
``rnncourse.plot``            the course's plots and tables
``rnncourse.checks``          comparison helpers the exercise tests use, with messages in learner terms

Exercise answers are never importable from here.
"""

from rnncourse.profiles import PROFILES, by_profile, environment_summary, get_profile

__version__ = "0.1.0"
__all__ = ["PROFILES", "by_profile", "environment_summary", "get_profile", "__version__"]
