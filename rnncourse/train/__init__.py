"""The one training loop of the course: :func:`fit`, :func:`evaluate`, :func:`predict` and the
:class:`History`.

Every chapter trains through :func:`fit`, on CUDA, MPS or the CPU, in one process or several
(``torchrun``). By default a batch is ``(*inputs, target)`` and the loss is
``loss_fn(model(*inputs), target)``::

    history = fit(model, train_loader, optimizer=torch.optim.AdamW(model.parameters(), 1e-3),
                  loss_fn=nn.CrossEntropyLoss(), epochs=10, valid_loader=valid_loader,
                  metrics={"accuracy": accuracy}, early_stopping=EarlyStopping(patience=3))
    history.plot()
    logits = predict(model, test_loader)        # one tensor of outputs per batch, in order

So a batch ``(x, lengths, y)`` calls ``model(x, lengths)``; ``target_index=1`` reads a batch
``(x, y, lengths)`` as target ``y`` and inputs ``(x, lengths)``.

**The step contract.** For any other batch pass ``step(model, batch) -> dict``: ``"loss"`` (the
batch's mean loss, a scalar tensor) and optionally ``"n"`` (the batch's weight in the epoch's
average, default 1), ``"outputs"`` and ``"targets"`` (what ``metrics`` receive; needed when there
are metrics). A step runs the model as ``model(...)``: under torchrun that call is what keeps the
processes' gradients in sync. A step object may also define ``reset()``, called before every pass
over a loader: this is how a character LM carries its hidden state across batches (truncated BPTT)::

    class CarryHidden:
        def __init__(self):
            self.hidden = None
        def reset(self):                       # a new pass over the text: start from zeros
            self.hidden = None
        def __call__(self, model, batch):
            x, y = batch                       # (batch, bptt): the next chunk of each stream
            logits, hidden = model(x, self.hidden)              # logits: (batch, bptt, vocab)
            # keep the state but cut the graph: gradients stop at the start of this chunk
            self.hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            return {"loss": loss, "n": y.numel(), "outputs": logits, "targets": y}

    fit(model, stream_loader, optimizer=opt, epochs=20, step=CarryHidden(), clip_grad_norm=1.0)

Under ``torchrun`` :func:`fit` joins the process group, wraps the model in
``DistributedDataParallel`` (NCCL on GPUs, gloo on the CPU), averages the losses over all
processes, and only rank 0 shows progress and writes checkpoints. Build the training loader with
:func:`distributed_loader`, which gives each process its share of every global batch. The same
script then runs as ``python train.py``, ``torchrun --nproc_per_node=4 train.py`` (four GPUs) or
``torchrun --nnodes=2 --node_rank=R --nproc_per_node=8 --master_addr=HOST --master_port=29500 train.py``.
"""

from rnncourse.train.checkpoints import load_checkpoint, save_checkpoint
from rnncourse.train.distributed import distributed_loader, init_distributed, is_main_process
from rnncourse.train.history import History
from rnncourse.train.loop import Checkpoint, EarlyStopping, evaluate, fit, predict

__all__ = ["History", "EarlyStopping", "Checkpoint", "fit", "evaluate", "predict", "save_checkpoint",
           "load_checkpoint", "init_distributed", "is_main_process", "distributed_loader"]
