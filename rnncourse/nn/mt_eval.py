"""Scoring translations the way MT papers report them: sacrebleu's BLEU and chrF against every
reference, with the metric's signature and bootstrap confidence intervals.

::

    sources, references = rnncourse.data.group_references(test_pairs)   # several per source
    hyps = [hypothesis(words) for words in outputs]                      # one per source
    scores = corpus_scores(hyps, references)
    print(scores)             # BLEU 31.20 ± 1.41, chrF 52.34 ± 0.90 (95% bootstrap), signatures
    paired_bootstrap(greedy_hyps, beam_hyps, references)                # is the difference real?

**Tokenisation.** Our text is already tokenised by ``normalize_sentence`` (lower case, accents
dropped, ``. ! ? ,`` split off as tokens), on both sides. BLEU therefore splits on white space only
(``tokenize="none"``): sacrebleu's default ``13a`` would tokenise again and, above all, split an
output's ``<unk>`` into three tokens. chrF removes white space before counting character n-grams,
so the tokenisation does not change it. Scores are comparable only with scores computed the same
way on the same data (the signature says how).

**Unknown words.** The model writes ``<unk>`` for a word outside its vocabulary; the references
keep their real words. :func:`hypothesis` writes ``<unk>`` as ``UNK_MARK`` (``⁇``), a symbol no
reference contains, so it is one token that matches nothing, in BLEU and in chrF alike (the
characters ``u``, ``n``, ``k`` of ``<unk>`` would otherwise earn chrF credit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

__all__ = ["TOKENIZE", "UNK_MARK", "Scores", "hypothesis", "reference_streams", "corpus_scores",
           "paired_bootstrap"]

TOKENIZE = "none"
UNK_MARK = "\u2047"  # ⁇: one token, in no reference
N_BOOTSTRAP = 1000


def hypothesis(words: Sequence[str], unk: str = "<unk>") -> str:
    """One output as sacrebleu reads it: the words joined by spaces, ``unk`` written ``UNK_MARK``."""
    return " ".join(UNK_MARK if word == unk else word for word in words)


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """Per-source reference lists -> sacrebleu's streams: stream ``r`` holds every source's
    ``r``-th reference, ``None`` where a source has fewer (sacrebleu skips those)."""
    if not references or any(len(refs) == 0 for refs in references):
        raise ValueError("every source needs at least one reference")
    depth = max(len(refs) for refs in references)
    return [[refs[r] if r < len(refs) else None for refs in references] for r in range(depth)]


def _metrics() -> dict[str, BLEU | CHRF]:
    return {"BLEU": BLEU(tokenize=TOKENIZE, force=True), "chrF": CHRF()}


@dataclass(frozen=True)
class Scores:
    """Corpus BLEU and chrF with the half-width of their 95% bootstrap intervals (``None`` with
    ``n_bootstrap=1``) and sacrebleu's signatures, which say exactly how they were computed."""

    bleu: float
    chrf: float
    bleu_ci: float | None
    chrf_ci: float | None
    bleu_signature: str
    chrf_signature: str
    segments: int

    def __str__(self) -> str:
        ci = lambda x: "" if x is None else f" ± {x:.2f}"  # noqa: E731
        return (f"BLEU {self.bleu:.2f}{ci(self.bleu_ci)}, chrF {self.chrf:.2f}{ci(self.chrf_ci)} "
                f"({self.segments:,} sources{', 95% bootstrap intervals' if self.bleu_ci else ''})\n"
                f"  BLEU: {self.bleu_signature}\n  chrF: {self.chrf_signature}")

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _check(hyps: Sequence[str], references: Sequence[Sequence[str]]) -> None:
    if len(hyps) != len(references):
        raise ValueError(f"{len(hyps)} hypotheses for {len(references)} sources: give one output "
                         "per source, in the order of the references (group_references)")


def corpus_scores(hyps: Sequence[str], references: Sequence[Sequence[str]], *,
                  n_bootstrap: int = N_BOOTSTRAP) -> Scores:
    """BLEU and chrF of ``hyps[i]`` against all of ``references[i]``, with 95% bootstrap intervals
    over the sources (sacrebleu's ``n_bootstrap`` resamples, seed 12345; ``n_bootstrap=1``: none).
    (``BLEU.corpus_score(n_bootstrap=...)`` would do for BLEU, but sacrebleu 2.6.0's chrF fails
    there when a resample scores 0, mixing float and float32; the paired-test harness does not.)"""
    _check(hyps, references)
    streams = reference_streams(references)
    found = {}
    if n_bootstrap > 1:  # sacrebleu's test harness, one system: its scores and intervals
        signatures, results = PairedTest([("system", list(hyps))], _metrics(), streams,
                                         test_type="bs", n_samples=n_bootstrap)()
        for name, (result,) in ((k, v) for k, v in results.items() if k != "System"):
            key = "BLEU" if name.startswith("BLEU") else "chrF"
            found[key] = (float(result.score), float(result.ci), str(signatures[name]))
    else:
        for name, metric in _metrics().items():
            score = metric.corpus_score(list(hyps), streams)
            found[name] = (float(score.score), None, str(metric.get_signature()))
    return Scores(found["BLEU"][0], found["chrF"][0], found["BLEU"][1], found["chrF"][1],
                  found["BLEU"][2], found["chrF"][2], len(hyps))


def paired_bootstrap(baseline: Sequence[str], system: Sequence[str], references: Sequence[Sequence[str]],
                     *, n_samples: int = N_BOOTSTRAP, level: float = 0.05) -> dict:
    """sacrebleu's paired bootstrap test (Koehn 2004) of ``system`` against ``baseline``.

    Both systems are scored on the same ``n_samples`` resamples of the sources (seed 12345).
    Returns, per metric (``"BLEU"``, ``"chrF"``), the two scores, their difference, the half-width
    of each one's 95% interval, the p-value of "the difference is due to chance" (two-sided:
    sacrebleu compares the absolute difference with the resamples' centred absolute differences)
    and ``significant`` (p < ``level`` and the scores differ), plus the signature with the test's
    settings.
    """
    _check(baseline, references)
    _check(system, references)
    test = PairedTest([("baseline", list(baseline)), ("system", list(system))], _metrics(),
                      reference_streams(references), test_type="bs", n_samples=n_samples)
    signatures, results = test()
    out = {}
    for name, (base, other) in ((k, v) for k, v in results.items() if k != "System"):
        metric = "BLEU" if name.startswith("BLEU") else "chrF"
        out[metric] = {"baseline": float(base.score), "system": float(other.score),
                       "difference": float(other.score - base.score),
                       "baseline_ci": float(base.ci), "system_ci": float(other.ci),
                       "p_value": float(other.p_value),
                       # sacrebleu gives p = 1/(n+1) to identical systems: no difference is no finding
                       "significant": bool(other.p_value < level and other.score != base.score),
                       "signature": str(signatures[name])}
    return out
