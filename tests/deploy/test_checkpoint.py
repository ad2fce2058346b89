"""rnncourse.deploy.checkpoint: a model file carries what serving needs, and refuses what it cannot load."""

from __future__ import annotations

import zipfile

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


def _document(tmp_path):
    _, path = _saved(tmp_path)
    return path, torch.load(path, weights_only=True)


def _set(document, key, value):
    document[key] = value


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(kind="char-lm", config=dict(vocab_size=5, embed_dim=3, hidden_size=3, cell="rnn")),
     "does not build a CharLM: ValueError: cell must be"),
    (lambda d: d["config"].update(cell="transformer"), "does not build a SentimentClassifier: KeyError"),
    (lambda d: d["config"].update(hidden_size=10**9), "does not build a SentimentClassifier"),
    (lambda d: d["config"].update(hidden_size=10**6), r"weights of another shape"),
    (lambda d: d.pop("state_dict"), "has no weights \\(its state_dict is missing\\)"),
    (lambda d: _set(d, "state_dict", [1, 2]), "has no weights \\(its state_dict is list\\)"),
    (lambda d: _set(d, "state_dict", {"fc.bias": [0.0]}), "'fc.bias' holds a list"),
    (lambda d: _set(d, "metadata", [1]), "metadata must be a dictionary, got list"),
    (lambda d: _set(d, "config", "big"), "config must be a dictionary, got str"),
    (lambda d: d["state_dict"]["fc.weight"].fill_(float("nan")), "fc.weight holds 30 NaN"),
    (lambda d: _set(d, "vocab", list(range(5))), "vocabulary must be strings"),
    (lambda d: d["metadata"].update(max_len=-5), "max_len .* must be a positive integer, got -5"),
    (lambda d: d["metadata"].update(accuracy=float("nan")), r"metadata\['accuracy'\] is nan"),
    (lambda d: d["metadata"].update(seen={"a"}), r"metadata\['seen'\] is a builtins.set"),
    (lambda d: d["metadata"].update(weights=torch.ones(2)), r"metadata\['weights'\] is a torch.Tensor"),
    (lambda d: _set(d, "format_version", "1"), "has checkpoint format version '1'; .* reads version 1\\."),
    (lambda d: _set(d, "kind", None), "names no model kind"),
    (lambda d: d["state_dict"]["fc.bias"].add_(1.0), "do not match the SHA-256"),
    (lambda d: d.pop("weights_sha256"), "do not match the SHA-256"),
])
def test_every_malformed_document_is_a_one_line_checkpoint_error(tmp_path, change, message):
    path, document = _document(tmp_path)
    change(document)
    torch.save(document, path)
    with pytest.raises(CheckpointError, match=message) as caught:
        load_model(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 600


def test_flipped_bytes_in_the_weights_are_caught_by_the_zip_checksum(tmp_path):
    _, path = _saved(tmp_path)
    with zipfile.ZipFile(path) as archive:                # the largest tensor's bytes in the file
        record = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    name_and_extra = int.from_bytes(data[record.header_offset + 26:record.header_offset + 28], "little") + \
        int.from_bytes(data[record.header_offset + 28:record.header_offset + 30], "little")
    start = record.header_offset + 30 + name_and_extra + record.file_size // 2
    data[start:start + 16] = bytes(b ^ 0xFF for b in data[start:start + 16])
    path.write_bytes(bytes(data))
    assert torch.load(path, weights_only=True)["state_dict"]      # torch itself reads it without a word
    with pytest.raises(CheckpointError, match="fails its checksum"):
        load_model(path)


@pytest.mark.parametrize("value, named", [
    (__import__("numpy").float64(0.5), r"metadata\['x'\] is a numpy.float64"),
    (__import__("datetime").date(2026, 1, 1), r"metadata\['x'\] is a datetime.date"),
    ({"a", "b"}, r"metadata\['x'\] is a builtins.set"),
    (float("nan"), r"metadata\['x'\] is nan"),
    ({"inner": {1: "a"}}, r"metadata\['x'\]\['inner'\] has the key 1"),
])
def test_save_refuses_metadata_it_could_not_read_back_naming_the_key(tmp_path, value, named):
    with pytest.raises(CheckpointError, match=named):
        save_model(tmp_path / "m.pt", SentimentClassifier(**CONFIG), kind="sentiment", config=CONFIG,
                   vocab=ITOS, metadata={"x": value})
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_finite_weights(tmp_path):
    model = SentimentClassifier(**CONFIG)
    with torch.no_grad():
        model.fc.bias.fill_(float("inf"))
    with pytest.raises(CheckpointError, match="fc.bias holds 1 NaN or infinite"):
        save_model(tmp_path / "m.pt", model, kind="sentiment", config=CONFIG, vocab=ITOS)
