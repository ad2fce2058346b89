# Leaves enforce_sorted at its default: unsorted lengths raise.
# expect: raised RuntimeError.*any order
def run_packed(rnn, padded, lengths):
    packed = pack_padded_sequence(padded, torch.as_tensor(lengths).cpu(), batch_first=True)
    out, state = rnn(packed)
    output, _ = pad_packed_sequence(out, batch_first=True, total_length=padded.shape[1])
    return output, state
