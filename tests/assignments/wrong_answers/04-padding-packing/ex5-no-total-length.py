# Forgets total_length: the output is as wide as the longest sequence only.
# expect: output keeps the T of padded
def run_packed(rnn, padded, lengths):
    packed = pack_padded_sequence(padded, torch.as_tensor(lengths).cpu(), batch_first=True, enforce_sorted=False)
    out, state = rnn(packed)
    output, _ = pad_packed_sequence(out, batch_first=True)
    return output, state
