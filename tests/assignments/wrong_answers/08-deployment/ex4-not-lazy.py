# Computes every id first, then yields them: nothing reaches the client until the end.
# expect: your stream_greedy raised RuntimeError: .*more than the ids asked for \(at line \d+: 
def stream_greedy(model, prompt_ids, n):
    ids = []
    with torch.no_grad():
        logits, state = model(torch.tensor([prompt_ids]), None)
        for _ in range(n):
            ids.append(int(logits[0, -1].argmax()))
            logits, state = model(torch.tensor([[ids[-1]]]), state)
    yield from ids
