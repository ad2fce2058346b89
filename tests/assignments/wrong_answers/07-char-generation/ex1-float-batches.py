# Batches filled into torch.zeros, which makes them float tensors: the values are right, but they
# are no longer token ids an embedding can take.
# expect: dtypes of x and y
def tbptt_batches(ids, batch_size, bptt):
    steps = (len(ids) - 1) // batch_size
    batches = []
    for s in range(0, steps, bptt):
        width = min(bptt, steps - s)
        x, y = torch.zeros(batch_size, width), torch.zeros(batch_size, width)
        for r in range(batch_size):
            x[r] = ids[r * steps + s : r * steps + s + width]
            y[r] = ids[r * steps + s + 1 : r * steps + s + width + 1]
        batches.append((x, y))
    return batches
