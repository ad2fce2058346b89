# The last, shorter batch dropped: part of every stream is never trained on.
# expect: number of batches
def tbptt_batches(ids, batch_size, bptt):
    steps = (len(ids) - 1) // batch_size
    x = ids[: batch_size * steps].reshape(batch_size, steps)
    y = ids[1 : batch_size * steps + 1].reshape(batch_size, steps)
    return [(x[:, s : s + bptt], y[:, s : s + bptt]) for s in range(0, steps - bptt + 1, bptt)]
