# No torch.no_grad(): the right ids, but every step builds a graph that the carried state keeps alive.
# expect: gradients on
def generate_greedy(model, prompt_ids, n):
    out = []
    logits, state = model(torch.tensor([prompt_ids]))
    for _ in range(n):
        token = logits[:, -1].argmax(dim=-1)
        out.append(int(token))
        logits, state = model(token.view(1, 1), state)
    return out
