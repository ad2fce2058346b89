"""rnncourse: the helper library of the course "Recurrent Neural Networks in PyTorch".

Public names are few and stable. The top level holds the profile helpers; the rest lives in
packages by stage, lower layers never importing higher ones (CONTRIBUTING.md, "The library's
layers"); each module lists its public names in ``__all__``:

``rnncourse.runtime``   the machine underneath
    ``.device``          choosing a device, moving batches, mixed precision, seeding
    ``.threads``         how many CPU threads torch uses (the free cores, or RNNCOURSE_THREADS)
    ``.profiles``        smoke / cpu / gpu sizes (``by_profile``, also at the top level)
    ``.progress``        progress bars that stay quiet in logs
    ``.files``           atomic writes
``rnncourse.data``      datasets (downloaded safely or from a mirror), tokenizer, vocabulary,
                        batching, contiguous streams for truncated BPTT
``rnncourse.plot``      the course's plots and tables
``rnncourse.nn``        the models and what runs them
    ``.padded``          recurrent layers on padded batches, exactly as packed (fast on a CPU)
    ``.decoding``        batched greedy decoding and beam search for any decoder step
    ``.mt_eval``         multi-reference BLEU and chrF with signatures and bootstrap intervals
    ``.language_model``  a character language model and stateful generation
    ``.sampling``        one token from logits: temperature, top-k, top-p
    ``.lm_metrics``      a language model's windowed loss, what its hidden units track, sample diversity
    ``.gpt``             a small GPT (nanoGPT's CPU recipe) to set beside the recurrent model
    ``.models``          chapter 6's sentiment classifier (the model chapter 8 deploys)
    ``.scan``            the linear recurrence h_t = a_t h_{t-1} + b_t: loop, parallel and log-space scans
    ``.minrnn``          minGRU and minLSTM (parallel and sequential modes), their block and language model
``rnncourse.train``     the one training loop every chapter uses (``fit``), ``predict``, history
``rnncourse.deploy``    putting a trained model to work
    ``.checkpoint``      versioned model files that carry their vocabulary
    ``.export``          ONNX export (dynamic batch and length) and one recurrent step exported
    ``.latency``         timing, percentiles, ONNX Runtime sessions and a load test
    ``.serve``           the HTTP service behind ``rnncourse serve``
``rnncourse.grading``   releasing, self-checking and autograding assignments
    ``.checks``          comparison helpers the exercise tests use, with messages in learner terms

Exercise answers are never importable from here.
"""

from rnncourse.runtime.profiles import PROFILES, by_profile, environment_summary, get_profile
from rnncourse import _moved

__version__ = "0.1.0"
__all__ = ["PROFILES", "by_profile", "environment_summary", "get_profile", "__version__"]

_moved.install()
