# The whole batch stops when the first row ends (the beam-search bug of mature toolkits).
# expect: output of row
def greedy_batch(step, state, batch_size, sos, eos, max_len):
    tokens = torch.full((batch_size,), sos, dtype=torch.long)
    outputs = [[] for _ in range(batch_size)]
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        tokens = log_probs.argmax(dim=-1)
        for b in range(batch_size):
            outputs[b].append(int(tokens[b]))
        if (tokens == eos).any():
            break
    return outputs
