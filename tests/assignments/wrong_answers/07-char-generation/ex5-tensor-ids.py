# The ids kept as the argmax tensors where Python ints are asked.
# expect: returned Tensor values
def generate_greedy(model, prompt_ids, n):
    out = []
    with torch.no_grad():
        logits, state = model(torch.tensor([prompt_ids]))
        for _ in range(n):
            token = logits[:, -1].argmax(dim=-1)
            out.append(token)
            logits, state = model(token.view(1, 1), state)
    return out
