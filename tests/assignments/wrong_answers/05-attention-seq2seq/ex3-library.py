# The course's own greedy decoder instead of the loop.
# expect: greedy_decode
def greedy_batch(step, state, batch_size, sos, eos, max_len):
    from rnncourse.nn.decoding import greedy_decode
    found = greedy_decode(step, state, batch_size, sos=sos, eos=eos, max_len=max_len, pad=-1)
    return [row[:n] for row, n in zip(found.tokens.tolist(), found.lengths.tolist())]
