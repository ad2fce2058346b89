# Starts from the last prompt id only, so the rest of the prompt is never read.
# expect: read the whole prompt|ids generated
def stream_greedy(model, prompt_ids, n):
    with torch.no_grad():
        logits, state = model(torch.tensor([[prompt_ids[-1]]]), None)
        for _ in range(n):
            token = int(logits[0, -1].argmax())
            yield token
            logits, state = model(torch.tensor([[token]]), state)
