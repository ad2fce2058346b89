"""rnncourse.train: the loop trains, resumes exactly, stops early, carries TBPTT state, records history."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.data import DataLoader, TensorDataset

from rnncourse.runtime.device import seed_everything
from rnncourse.train import Checkpoint, EarlyStopping, History, evaluate, fit, load_checkpoint, predict, save_checkpoint


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, and the machine's cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Classifier(nn.Module):
    """Embedding -> GRU over the packed batch -> last real state -> 2 classes."""

    def __init__(self, vocab=6, hidden=16, dropout=0.2):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8, padding_idx=0)
        self.rnn = nn.GRU(8, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x, lengths):  # x: (batch, seq_len), lengths: (batch,)
        packed = pack_padded_sequence(self.embed(x), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)  # h: (1, batch, hidden), the state at each sequence's true end
        return self.out(self.drop(h[-1]))


def sequences(n=96, seed=0, flip=False):
    """Padded token sequences of length 2..8; the label: does token 1 occur? (flip inverts it)."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 9, (n,), generator=g)
    x = torch.randint(2, 6, (n, 8), generator=g)
    has_one = torch.rand(n, generator=g) < 0.5
    x[has_one, 0] = 1
    x[torch.arange(8) >= lengths[:, None]] = 0  # padding
    y = has_one.long() ^ int(flip)
    return x, lengths, y


def accuracy(outputs, targets):
    return (outputs.argmax(-1) == targets).float().mean().item()


def loaders(batch_size=16, **kwargs):
    x, lengths, y = sequences(96, seed=0)
    train = DataLoader(TensorDataset(x, lengths, y), batch_size=batch_size, shuffle=True, **kwargs)
    xv, lv, yv = sequences(48, seed=1)
    return train, DataLoader(TensorDataset(xv, lv, yv), batch_size=batch_size)


def test_a_classifier_with_lengths_learns():
    seed_everything(0)
    model = Classifier()
    train, valid = loaders()
    history = fit(model, train, optimizer=torch.optim.Adam(model.parameters(), 3e-2), epochs=6,
                  loss_fn=nn.CrossEntropyLoss(), valid_loader=valid, metrics={"accuracy": accuracy},
                  clip_grad_norm=1.0, progress=False)
    assert len(history) == 6
    assert history.keys() == ["epoch", "train_loss", "valid_loss", "valid_accuracy", "lr", "seconds"]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["valid_accuracy"][-1] > 0.8
    # evaluate() measures what fit recorded for the last epoch
    scores = evaluate(model, valid, loss_fn=nn.CrossEntropyLoss(), metrics={"accuracy": accuracy})
    assert scores == pytest.approx({"loss": history["valid_loss"][-1], "accuracy": history["valid_accuracy"][-1]})


def test_predict_gives_each_batchs_outputs_in_order_like_a_plain_loop():
    seed_everything(0)
    model = Classifier()
    model.train()  # predict switches dropout off, then leaves the mode as it found it
    _, valid = loaders(batch_size=10)
    outputs = predict(model, valid)
    assert model.training and [len(o) for o in outputs] == [10, 10, 10, 10, 8]
    model.eval()
    with torch.no_grad():
        expected = [model(x, lengths) for x, lengths, _ in valid]
    assert all(torch.equal(o, e) for o, e in zip(outputs, expected))
    unlabelled = [(x, lengths) for x, lengths, _ in valid]  # no targets: every element is an input
    assert torch.equal(torch.cat(predict(model, unlabelled, target_index=None)), torch.cat(outputs))
    with pytest.raises(TypeError, match=r"\(\*inputs, target\)"):
        predict(model, [torch.zeros(2, 3)])


def test_target_index_reads_batches_with_the_target_in_the_middle():
    def run(target_index, order):
        seed_everything(0)
        model = Classifier()
        x, lengths, y = sequences(64)
        parts = {"x": x, "lengths": lengths, "y": y}
        loader = DataLoader(TensorDataset(*(parts[k] for k in order)), batch_size=16, shuffle=True)
        fit(model, loader, optimizer=torch.optim.SGD(model.parameters(), 0.1), epochs=2,
            loss_fn=nn.CrossEntropyLoss(), progress=False, target_index=target_index)
        return model.state_dict()

    a, b = run(-1, ("x", "lengths", "y")), run(1, ("x", "y", "lengths"))
    assert all(torch.equal(a[k], b[k]) for k in a)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("own_generator", [False, True], ids=["global-rng", "loader-generator"])
def test_resuming_from_a_checkpoint_ends_with_the_same_weights(tmp_path, own_generator):
    """Dropout, shuffling, AdamW, a plateau scheduler and clipping: all must continue exactly."""

    def run(checkpoint=None, resume=False, interrupt_at=None, init_seed=0):
        torch.manual_seed(init_seed)
        model = Classifier()
        kwargs = {"generator": torch.Generator().manual_seed(5)} if own_generator else {}
        train, valid = loaders(**kwargs)
        optimizer = torch.optim.AdamW(model.parameters(), 1e-2)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
        calls = 0

        def step(model, batch):
            nonlocal calls
            calls += 1
            if calls == interrupt_at:
                raise Interrupt
            x, lengths, y = batch
            return {"loss": F.cross_entropy(model(x, lengths), y), "n": len(y)}

        history = fit(model, train, optimizer=optimizer, epochs=5, step=step, valid_loader=valid,
                      scheduler=scheduler, clip_grad_norm=0.5,
                      checkpoint=checkpoint and Checkpoint(checkpoint, resume=resume), progress=False, seed=123)
        return model, history

    full_model, full_history = run()
    path = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        run(checkpoint=path, interrupt_at=6 * 2 + 3 * 2 + 4)  # in epoch 3 (6 train + 3 valid batches each)
    assert load_checkpoint(path)["epoch"] == 2
    model, history = run(checkpoint=path, resume=True, init_seed=99)  # other initial weights: loaded over
    full, resumed = full_model.state_dict(), model.state_dict()
    assert all(torch.equal(full[k], resumed[k]) for k in full), "resumed weights differ from the uninterrupted run"
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h.records]
    assert strip(history) == strip(full_history)
    assert len({r["lr"] for r in history.records}) > 1  # the plateau scheduler did act


def test_early_stopping_restores_the_best_epoch(tmp_path):
    """The validation labels are the opposite of the training labels: validation loss rises."""
    seed_everything(0)
    model = Classifier(dropout=0.0)
    x, lengths, y = sequences(96)
    train = DataLoader(TensorDataset(x, lengths, y), batch_size=16, shuffle=True)
    valid = DataLoader(TensorDataset(*sequences(48, seed=1, flip=True)), batch_size=16)
    snapshots = {}

    class Snapshot:  # a step that also records the weights at the start of each validation pass
        epoch = 0

        def reset(self):
            if not model.training:
                self.epoch += 1
                snapshots[self.epoch] = {k: v.clone() for k, v in model.state_dict().items()}

        def __call__(self, model, batch):
            x, lengths, y = batch
            out = model(x, lengths)
            return {"loss": F.cross_entropy(out, y), "n": len(y), "outputs": out, "targets": y}

    history = fit(model, train, optimizer=torch.optim.Adam(model.parameters(), 1e-2), epochs=30, step=Snapshot(),
                  valid_loader=valid, metrics={"accuracy": accuracy}, early_stopping=2, checkpoint=tmp_path / "c.pt",
                  progress=False)
    best = history.best_epoch
    losses = history["valid_loss"]
    assert best == 1 + losses.index(min(losses)) and len(history) == best + 2 < 30
    restored = model.state_dict()
    assert all(torch.equal(restored[k], snapshots[best][k]) for k in restored)
    assert evaluate(model, valid, step=Snapshot())["loss"] == pytest.approx(min(losses))
    saved = load_checkpoint(tmp_path / "c.pt")
    assert saved["epoch"] == best + 2 and all(torch.equal(saved["best_model"][k], restored[k]) for k in restored)

    # resuming a run that already stopped trains no further and restores the best weights again
    again = Classifier(dropout=0.0)
    h2 = fit(again, train, optimizer=torch.optim.Adam(again.parameters(), 1e-2), epochs=30, step=Snapshot(),
             valid_loader=valid, early_stopping=EarlyStopping(2), checkpoint=Checkpoint(tmp_path / "c.pt", resume=True),
             progress=False)
    assert len(h2) == len(history) and all(torch.equal(again.state_dict()[k], restored[k]) for k in restored)


class CharLM(nn.Module):
    def __init__(self, vocab=5, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.rnn = nn.LSTM(8, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, hidden=None):  # x: (batch, bptt) -> logits (batch, bptt, vocab), (h, c)
        y, hidden = self.rnn(self.embed(x), hidden)
        return self.out(y), hidden


class CarryHidden:
    """The module docstring's truncated-BPTT step, verbatim."""

    def __init__(self):
        self.hidden = None
        self.resets = 0

    def reset(self):
        self.hidden = None
        self.resets += 1

    def __call__(self, model, batch):
        x, y = batch
        logits, hidden = model(x, self.hidden)
        self.hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        return {"loss": loss, "n": y.numel(), "outputs": logits, "targets": y}


def test_truncated_bptt_carries_the_hidden_state_across_batches():
    """Streams repeat 0 1 0 2 (each from another phase) and are cut into chunks of 2 steps. What
    follows a 0 depends on the token before it, which is often in the previous chunk: only a model
    whose state crosses chunk boundaries can reach ~100% (starting each chunk from zeros: 87.5%)."""
    seed_everything(0)
    streams = torch.stack([torch.tensor([0, 1, 0, 2]).roll(k).repeat(40)[:121] for k in (0, 1, 2, 3) * 2])
    x, y = streams[:, :-1], streams[:, 1:]
    chunks = [(x[:, i:i + 2], y[:, i:i + 2]) for i in range(0, 120, 2)]  # batch b: chunk b of every stream
    starts = []

    class Spy(CarryHidden):
        def __call__(self, model, batch):
            starts.append(self.hidden is None)
            return super().__call__(model, batch)

    model, step = CharLM(vocab=3), Spy()
    history = fit(model, chunks, optimizer=torch.optim.Adam(model.parameters(), 2e-2), epochs=3, step=step,
                  valid_loader=chunks[:20], metrics={"accuracy": lambda o, t: accuracy(o.flatten(0, 1), t.flatten())},
                  clip_grad_norm=1.0, progress=False)
    assert step.resets == 6  # a fresh state for every pass: 3 training, 3 validation
    assert starts.count(True) == 6 and len(starts) == 3 * (60 + 20)  # only a pass's first batch starts from zeros
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]
    assert history["valid_accuracy"][-1] > 0.95


def test_step_results_metrics_and_errors():
    model = nn.Linear(3, 2)
    data = [(torch.randn(4, 3), torch.randint(0, 2, (4,))) for _ in range(3)]
    opt = torch.optim.SGD(model.parameters(), 0.1)
    plain = lambda m, b: {"loss": F.cross_entropy(m(b[0]), b[1])}
    assert fit(model, data, optimizer=opt, epochs=1, step=plain, progress=False)["train_loss"][0] > 0
    for other in (lambda m, b: F.cross_entropy(m(b[0]), b[1]), lambda m, b: (F.cross_entropy(m(b[0]), b[1]), 4)):
        with pytest.raises(TypeError, match="a step returns a dict with 'loss'"):  # one step contract
            fit(model, data, optimizer=opt, epochs=1, step=other, progress=False)
    with pytest.raises(ValueError, match="metrics need the step to return a dict with 'outputs' and 'targets'"):
        fit(model, data, optimizer=opt, epochs=1, step=plain, valid_loader=data, metrics={"a": accuracy},
            progress=False)
    with pytest.raises(ValueError, match="pass loss_fn="):
        fit(model, data, optimizer=opt, epochs=1, progress=False)
    with pytest.raises(ValueError, match="not both"):
        fit(model, data, optimizer=opt, epochs=1, step=plain, loss_fn=nn.CrossEntropyLoss(), progress=False)
    with pytest.raises(TypeError, match=r"\(\*inputs, target\)"):
        fit(model, [{"x": torch.randn(2, 3)}], optimizer=opt, epochs=1, loss_fn=nn.CrossEntropyLoss(), progress=False)
    with pytest.raises(ValueError, match="'valid_accuracy' is not measured; .* measures train_loss, valid_loss$"):
        fit(model, data, optimizer=opt, epochs=1, loss_fn=nn.CrossEntropyLoss(), valid_loader=data,
            early_stopping=EarlyStopping(1, monitor="valid_accuracy", mode="max"), progress=False)
    with pytest.raises(ValueError, match="no batches"):
        evaluate(model, [], loss_fn=nn.CrossEntropyLoss())
    model.train()
    evaluate(model, data, loss_fn=nn.CrossEntropyLoss())
    assert model.training  # evaluate leaves the mode as it found it


def test_amp_true_on_cpu_trains_in_float32_like_amp_false():
    def run(amp):
        seed_everything(0)
        model = nn.Linear(3, 2)
        data = [(torch.randn(4, 3), torch.randint(0, 2, (4,))) for _ in range(3)]
        fit(model, data, optimizer=torch.optim.SGD(model.parameters(), 0.1), epochs=2,
            loss_fn=nn.CrossEntropyLoss(), amp=amp, progress=False)
        return model.weight

    assert torch.equal(run(True), run(False))


def test_history_is_json_able_plots_and_picks_the_best_epoch():
    records = [{"epoch": e, "train_loss": 1 / e, "valid_loss": v, "valid_accuracy": a, "lr": 0.1, "seconds": 1.0}
               for e, v, a in [(1, 0.9, 0.5), (2, 0.7, 0.8), (3, 0.8, 0.9), (4, float("nan"), 0.7)]]
    h = History(records)
    assert h.best_epoch == 2 and History(records, monitor="valid_accuracy", mode="max").best_epoch == 3
    back = History.from_dict(json.loads(json.dumps(h.as_dict())))
    assert back["valid_accuracy"] == [0.5, 0.8, 0.9, 0.7] and back.best_epoch == 2 and back[-1]["epoch"] == 4
    fig = h.plot(title="run")
    assert len(fig.axes) == 2 and [l.get_label() for l in fig.axes[1].lines][0] == "valid accuracy"
    assert "best epoch: 2" in repr(h) and "<table" in h._repr_html_()
    # without metrics there is one panel, the two loss curves
    no_metrics = History([{k: v for k, v in r.items() if k != "valid_accuracy"} for r in records]).plot()
    assert [l.get_label() for l in no_metrics.axes[0].lines][:2] == ["train loss", "valid loss"]
    assert len(no_metrics.axes) == 1
    assert len(History([{"epoch": 1, "train_loss": 1.0}], monitor="train_loss").plot().axes) == 1
    with pytest.raises(ValueError, match="mode must be"):
        History(mode="best")


def test_checkpoints_carry_extras_and_are_written_atomically(tmp_path):
    model = nn.GRU(3, 4)
    path = tmp_path / "sub" / "model.pt"
    save_checkpoint(path, model, epoch=7, vocab={"itos": ["<pad>", "<unk>", "a"]}, version=2)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary file left
    other = nn.GRU(3, 4)
    state = load_checkpoint(path, other)
    assert state["epoch"] == 7 and state["vocab"]["itos"][2] == "a" and state["version"] == 2
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))
