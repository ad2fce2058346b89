# Gradients switched off with torch.set_grad_enabled(False) and never switched back on for the caller.
# expect: left gradient tracking switched off
def generate_greedy(model, prompt_ids, n):
    torch.set_grad_enabled(False)
    out = []
    logits, state = model(torch.tensor([prompt_ids]))
    for _ in range(n):
        token = logits[:, -1].argmax(dim=-1)
        out.append(int(token))
        logits, state = model(token.view(1, 1), state)
    return out
