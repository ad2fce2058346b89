# Gradients switched off once with torch.set_grad_enabled(False), and left off for the server's code.
# expect: left gradient tracking switched off
def stream_greedy(model, prompt_ids, n):
    torch.set_grad_enabled(False)
    logits, state = model(torch.tensor([prompt_ids]), None)
    for _ in range(n):
        token = int(logits[0, -1].argmax())
        yield token
        logits, state = model(torch.tensor([[token]]), state)
