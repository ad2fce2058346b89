# Sorts the batch by length itself and never restores the order.
# expect: order of the sorted lengths
def run_packed(rnn, padded, lengths):
    lengths = torch.as_tensor(lengths).cpu()
    order = torch.argsort(lengths, descending=True)
    packed = pack_padded_sequence(padded[order], lengths[order], batch_first=True)
    out, state = rnn(packed)
    output, _ = pad_packed_sequence(out, batch_first=True, total_length=padded.shape[1])
    return output, state
