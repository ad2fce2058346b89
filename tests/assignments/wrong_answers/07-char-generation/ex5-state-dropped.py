# One id fed per step, but without the state: each step starts from zeros.
# expect: ids generated
def generate_greedy(model, prompt_ids, n):
    out = []
    with torch.no_grad():
        logits, _ = model(torch.tensor([prompt_ids]))
        for _ in range(n):
            token = logits[:, -1].argmax(dim=-1)
            out.append(int(token))
            logits, _ = model(token.view(1, 1))
    return out
