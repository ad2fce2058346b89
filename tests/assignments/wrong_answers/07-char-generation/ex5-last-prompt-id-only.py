# Only the last id of the prompt read: the rest of the prompt never reaches the state.
def generate_greedy(model, prompt_ids, n):
    out, state = [], None
    token = torch.tensor([[prompt_ids[-1]]])
    with torch.no_grad():
        for _ in range(n):
            logits, state = model(token, state)
            token = logits[:, -1:].argmax(dim=-1)
            out.append(int(token))
    return out
