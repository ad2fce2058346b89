"""rnncourse: the helper library of the course "Recurrent Neural Networks in PyTorch".

Public names are few and stable. The top level holds the profile helpers; the rest lives in
small submodules, each listing its public names in ``__all__``:

``rnncourse.device``  choosing a device, moving batches, mixed precision, seeding
``rnncourse.data``    datasets (downloaded safely or from a mirror), tokenizer, vocabulary, batching
``rnncourse.train``   the one training loop every chapter uses, and its history
``rnncourse.language_model``, ``rnncourse.sampling``  a character LM, stateful generation, top-k/top-p
``rnncourse.decoding``  batched greedy decoding and beam search for any decoder step
``rnncourse.models``, ``.checkpoint``, ``.latency``, ``.serve``  chapter 6's classifier, model files, timing, HTTP service
``rnncourse.padded``  recurrent layers on padded batches, exactly as packed (fast on a CPU)
``rnncourse.plot``    the course's plots and tables
``rnncourse.checks``  comparison helpers the exercise tests use, with messages in learner terms

Exercise answers are never importable from here.
"""

from rnncourse.profiles import PROFILES, by_profile, environment_summary, get_profile

__version__ = "0.1.0"
__all__ = ["PROFILES", "by_profile", "environment_summary", "get_profile", "__version__"]
