"""rnncourse.nn.mt_eval: multi-reference BLEU and chrF with one tokenisation, signatures, intervals."""

from __future__ import annotations

import pytest
import sacrebleu

from rnncourse.nn.mt_eval import (UNK_MARK, corpus_scores, hypothesis, paired_bootstrap,
                                  reference_streams)

REFERENCES = [["je suis fatigue .", "je suis fatiguee ."], ["il est grand ."],
              ["nous sommes ici .", "on est la .", "nous sommes la ."], ["elle est ma fille ."]]


def test_an_output_equal_to_any_reference_scores_100():
    hyps = [refs[-1] for refs in REFERENCES]       # a human translation, not always the first
    assert corpus_scores(hyps, REFERENCES, n_bootstrap=1).bleu == pytest.approx(100.0)
    single = sacrebleu.corpus_bleu(hyps, [[refs[0] for refs in REFERENCES]], tokenize="none", force=True)
    assert single.score < 80                       # what one reference per source made of it


def test_streams_pad_missing_references_with_none():
    streams = reference_streams(REFERENCES)
    assert len(streams) == 3 and streams[1] == ["je suis fatiguee .", None, "on est la .", None]
    with pytest.raises(ValueError, match="at least one reference"):
        reference_streams([["a"], []])


def test_unk_is_one_token_that_matches_nothing():
    assert hypothesis(["je", "suis", "<unk>", "."]) == f"je suis {UNK_MARK} ."
    with_unk = corpus_scores([hypothesis(["je", "suis", "<unk>", "."])], [["je suis fatigue ."]], n_bootstrap=1)
    # 3 of 4 unigrams, 2 of 3 bigrams, 1 of 2 trigrams, 0 of 1 4-gram (exp smoothing): 35.4 as
    # four tokens; sacrebleu's 13a would make <unk> three tokens and give 18.0
    assert with_unk.bleu == pytest.approx(35.355, abs=0.01)
    assert sacrebleu.corpus_bleu(["je suis <unk> ."], [["je suis fatigue ."]]).score == pytest.approx(17.97, abs=0.01)
    chrf = lambda hyp, ref: corpus_scores([hyp], [[ref]], n_bootstrap=1).chrf  # noqa: E731
    # written literally, <unk> earns chrF credit from the letters u, n of a reference word ...
    assert chrf("je suis <unk> .", "je suis une .") > chrf("je suis <unk> .", "je suis ete .")
    # ... the mark matches nothing, whatever the word it stands for
    assert chrf(f"je suis {UNK_MARK} .", "je suis une .") == chrf(f"je suis {UNK_MARK} .", "je suis ete .")


def test_scores_carry_signatures_and_intervals():
    hyps = ["je suis fatigue .", "il est petit .", "nous sommes la .", "c'est ma fille ."] * 10
    scores = corpus_scores(hyps, REFERENCES * 10, n_bootstrap=200)
    assert "tok:none" in scores.bleu_signature and "nrefs:var" in scores.bleu_signature
    assert "bs:200" in scores.bleu_signature and "nc:6" in scores.chrf_signature
    assert 0 < scores.bleu_ci < 30 and 0 < scores.chrf_ci < 30
    assert "±" in str(scores) and scores.segments == 40
    with pytest.raises(ValueError, match="one output per source"):
        corpus_scores(hyps[:3], REFERENCES)


def test_paired_bootstrap_tells_a_real_difference_from_none():
    good = [refs[0] for refs in REFERENCES] * 30
    bad = ["je ne sais pas .", "il est grand .", "nous sommes ici .", "elle est ma soeur ."] * 30
    refs = REFERENCES * 30
    found = paired_bootstrap(bad, good, refs, n_samples=200)
    assert found["BLEU"]["difference"] > 0 and found["BLEU"]["significant"]
    assert found["chrF"]["p_value"] < 0.05 and "bs:200" in found["BLEU"]["signature"]
    almost = list(good)
    almost[5] = "il est tres grand ."                # one output of 120 differs
    close = paired_bootstrap(good, almost, refs, n_samples=200)
    assert close["BLEU"]["difference"] != 0 and not close["BLEU"]["significant"]
    same = paired_bootstrap(good, list(good), refs, n_samples=200)
    assert same["BLEU"]["difference"] == 0 and not same["BLEU"]["significant"]
