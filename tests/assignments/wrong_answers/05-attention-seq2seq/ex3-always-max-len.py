# Right outputs, but the loop always runs max_len steps, long after every row has ended.
# expect: called step
def greedy_batch(step, state, batch_size, sos, eos, max_len):
    tokens = torch.full((batch_size,), sos, dtype=torch.long)
    outputs = [[] for _ in range(batch_size)]
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        tokens = log_probs.argmax(dim=-1)
        for b in range(batch_size):
            if eos not in outputs[b]:
                outputs[b].append(int(tokens[b]))
    return outputs
