"""The models behind ``rnncourse serve``, loaded from checkpoints and ready to answer.

- :class:`SentimentService`: texts -> token ids (``encode``, in the request's own task, so one bad
  text fails only its request) and a batch of id lists -> P(positive) (``predict_encoded``, run by
  the batcher). Rows are bucketed by length: rows of one length go to the backend together without
  lengths (the fast fused call; a single text is such a bucket); the rows left over, each of a
  length no other row has, go in one padded call with lengths (eager) or one call each (ONNX).
- :class:`GeneratorService`: a prompt -> the ids of :func:`rnncourse.nn.language_model.generate`,
  one at a time (each step under ``torch.inference_mode()``, whichever thread resumes it).
"""

from __future__ import annotations

from collections import defaultdict

import torch

from rnncourse.deploy.validation import GenerateRequest, RequestError

__all__ = ["SentimentService", "GeneratorService", "load_services"]


class SentimentService:
    """A sentiment checkpoint ready to answer: text -> P(positive)."""

    def __init__(self, loaded, backend) -> None:
        from rnncourse.data import Vocab

        self.model, self.metadata, self.backend = loaded.model, loaded.metadata, backend
        self.model.pack = False                    # a CPU service: the exact padded route is faster
        self.vocab = Vocab(loaded.vocab)
        self.max_len = loaded.metadata.get("max_len")

    def encode(self, text: str) -> list[int]:
        from rnncourse.data import clean_review, tokenize

        ids = self.vocab.encode(tokenize(clean_review(text)))
        if not ids:
            raise RequestError(422, "the text has no words or punctuation to classify.")
        return ids[-self.max_len:] if self.max_len else ids     # the last tokens, as chapter 6 trains

    def predict_encoded(self, encoded: list[list[int]]) -> list[float]:
        """P(positive) for each id list, in order: buckets of one length, then the rest."""
        by_length = defaultdict(list)
        for row, ids in enumerate(encoded):
            by_length[len(ids)].append(row)
        groups = list(by_length.values())
        logits = torch.empty(len(encoded))
        alone = [rows[0] for rows in groups if len(rows) == 1]
        if self.backend.padded is not None and len(alone) > 1:
            groups = [rows for rows in groups if len(rows) > 1]
            lengths = torch.tensor([len(encoded[r]) for r in alone])
            ids = torch.zeros(len(alone), int(lengths.max()), dtype=torch.long)
            for i, r in enumerate(alone):
                ids[i, :len(encoded[r])] = torch.tensor(encoded[r])
            logits[alone] = self.backend.padded(ids, lengths).reshape(-1).float()
        for rows in groups:
            ids = torch.tensor([encoded[r] for r in rows])
            logits[rows] = self.backend.same_length(ids).reshape(-1).float()
        return torch.sigmoid(logits).tolist()

    def predict(self, texts: list[str]) -> list[float]:
        """P(positive) for each text (encode, then one call of ``predict_encoded``)."""
        return self.predict_encoded([self.encode(t) for t in texts])


class GeneratorService:
    """A character language model that streams one character at a time."""

    def __init__(self, loaded) -> None:
        self.model, self.metadata, self.itos = loaded.model, loaded.metadata, loaded.vocab
        self.stoi = {c: i for i, c in enumerate(self.itos)}
        self.backend = None

    def characters(self, request: GenerateRequest):
        """An iterator over the generated characters (RequestError for an unknown character)."""
        from rnncourse.nn.language_model import generate

        unknown = sorted({c for c in request.prompt if c not in self.stoi})
        if unknown:
            raise RequestError(422, f"the prompt holds characters the model never saw: {''.join(unknown)[:40]!r}.")
        generator = torch.Generator().manual_seed(request.seed) if request.seed is not None else None
        top_k = min(request.top_k, len(self.itos)) if request.top_k is not None else None
        ids = generate(self.model, [self.stoi[c] for c in request.prompt], request.n,
                       temperature=request.temperature, top_k=top_k, top_p=request.top_p,
                       generator=generator)
        return (self.itos[i] for i in ids)


def load_services(paths: list[str], *, backend: str = "eager", threads: int = 1) -> dict:
    """kind -> service for each checkpoint; CheckpointError (with the reason) for a bad file or a
    backend that cannot serve it."""
    from rnncourse.deploy.backends import BackendError, make_backend
    from rnncourse.deploy.checkpoint import CheckpointError, load_model

    services = {}
    for path in paths:
        loaded = load_model(path)
        if loaded.kind in services:
            raise CheckpointError(f"two checkpoints of kind {loaded.kind!r}; serve one of each kind.")
        if loaded.kind == "sentiment":
            loaded.model.pack = False
            try:
                runner = make_backend(backend, loaded.model, vocab_size=len(loaded.vocab), threads=threads)
            except BackendError as error:
                raise CheckpointError(f"{path}: {error}") from None
            services["sentiment"] = SentimentService(loaded, runner)
        else:
            services[loaded.kind] = GeneratorService(loaded)
    return services
