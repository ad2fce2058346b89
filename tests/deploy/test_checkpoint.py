"""rnncourse.deploy.checkpoint: a model file carries what serving needs, and refuses what it cannot load."""

from __future__ import annotations

import pytest
import torch

from rnncourse.deploy.checkpoint import FORMAT_VERSION, CheckpointError, load_model, save_model
from rnncourse.nn.language_model import CharLM
from rnncourse.nn.models import SentimentClassifier

ITOS = ["<pad>", "<unk>", "good", "bad", "movie"]
CONFIG = dict(vocab_size=len(ITOS), embed_dim=6, hidden_size=5, pack=False)


def _saved(tmp_path, **overrides):
    torch.manual_seed(0)
    model = SentimentClassifier(**CONFIG)
    path = save_model(tmp_path / "m.pt", model, kind="sentiment", config=CONFIG, vocab=ITOS,
                      metadata={"max_len": 40, "test_accuracy": 0.5, **overrides})
    return model, path


def test_round_trip_keeps_weights_vocabulary_config_and_metadata(tmp_path):
    model, path = _saved(tmp_path)
    loaded = load_model(path)
    assert loaded.kind == "sentiment" and loaded.vocab == ITOS and loaded.config == CONFIG
    assert loaded.metadata["max_len"] == 40 and loaded.metadata["torch"] == str(torch.__version__)
    assert not loaded.model.training
    ids, lengths = torch.tensor([[2, 4, 3], [3, 2, 0]]), torch.tensor([3, 2])
    model.eval()
    torch.testing.assert_close(loaded.model(ids, lengths), model(ids, lengths))


def test_char_lm_round_trip(tmp_path):
    config = dict(vocab_size=4, embed_dim=3, hidden_size=5, cell="gru")
    model = CharLM(**config)
    loaded = load_model(save_model(tmp_path / "c.pt", model, kind="char-lm", config=config, vocab=list("ab\n ")))
    x = torch.tensor([[0, 1, 2]])
    torch.testing.assert_close(loaded.model(x)[0], model.eval()(x)[0])


def test_the_file_holds_only_plain_values_and_tensors(tmp_path):
    _, path = _saved(tmp_path)
    document = torch.load(path, weights_only=True)          # would raise on any other pickled object
    assert document["format_version"] == FORMAT_VERSION


def test_another_format_version_is_refused_with_both_versions_named(tmp_path):
    _, path = _saved(tmp_path)
    document = torch.load(path, weights_only=True)
    document["format_version"] = FORMAT_VERSION + 1
    torch.save(document, path)
    with pytest.raises(CheckpointError, match=f"version {FORMAT_VERSION + 1}.*reads version {FORMAT_VERSION}"):
        load_model(path)


def test_missing_vocabulary_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    document = torch.load(path, weights_only=True)
    del document["vocab"]
    torch.save(document, path)
    with pytest.raises(CheckpointError, match="no vocabulary"):
        load_model(path)


def test_vocabulary_of_another_size_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    document = torch.load(path, weights_only=True)
    document["vocab"] = ITOS + ["extra"]
    torch.save(document, path)
    with pytest.raises(CheckpointError, match="vocabulary holds 6 tokens but the model was built for 5"):
        load_model(path)


def test_changed_architecture_is_refused_naming_the_weights(tmp_path):
    _, path = _saved(tmp_path)
    document = torch.load(path, weights_only=True)
    document["config"]["hidden_size"] = 7
    torch.save(document, path)
    with pytest.raises(CheckpointError, match=r"does not fit the architecture.*rnn.bias_hh_l0 \(20,\) \(the configuration builds \(28,\)\)"):
        load_model(path)
    document["config"]["hidden_size"] = 5
    document["config"]["pooling"] = False
    torch.save(document, path)
    with pytest.raises(CheckpointError, match="fc.weight"):
        load_model(path)


def test_saving_a_model_that_does_not_match_its_config_writes_nothing(tmp_path):
    model = SentimentClassifier(**{**CONFIG, "hidden_size": 9})
    with pytest.raises(CheckpointError, match="does not fit"):
        save_model(tmp_path / "m.pt", model, kind="sentiment", config=CONFIG, vocab=ITOS)
    with pytest.raises(CheckpointError, match="vocabulary"):
        save_model(tmp_path / "m.pt", SentimentClassifier(**CONFIG), kind="sentiment", config=CONFIG, vocab=[])
    assert list(tmp_path.iterdir()) == []


def test_missing_damaged_and_foreign_files_get_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no model file"):
        load_model(tmp_path / "absent.pt")
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_model(path)
    torch.save({"model": {}}, path)                          # e.g. a training checkpoint
    with pytest.raises(CheckpointError, match="not a model checkpoint"):
        load_model(path)


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    model, path = _saved(tmp_path)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        open(f, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, model, kind="sentiment", config=CONFIG, vocab=ITOS)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]
