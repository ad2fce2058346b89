# The streams interleaved: reshaping to (S, batch_size) and transposing puts every batch_size-th id
# in a row, so a row does not read the text in order.
def tbptt_batches(ids, batch_size, bptt):
    steps = (len(ids) - 1) // batch_size
    x = ids[: batch_size * steps].reshape(steps, batch_size).T
    y = ids[1 : batch_size * steps + 1].reshape(steps, batch_size).T
    return [(x[:, s : s + bptt], y[:, s : s + bptt]) for s in range(0, steps, bptt)]
