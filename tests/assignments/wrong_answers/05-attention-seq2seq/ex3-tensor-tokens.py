# Rows of 0-d tensors (tokens[b]) where lists of Python ints are asked.
# expect: holds Tensor values.*int\(
def greedy_batch(step, state, batch_size, sos, eos, max_len):
    tokens = torch.full((batch_size,), sos, dtype=torch.long)
    outputs = [[] for _ in range(batch_size)]
    finished = [False] * batch_size
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        tokens = log_probs.argmax(dim=-1)
        for b in range(batch_size):
            if not finished[b]:
                outputs[b].append(tokens[b])
                finished[b] = bool(tokens[b] == eos)
        if all(finished):
            break
    return outputs
