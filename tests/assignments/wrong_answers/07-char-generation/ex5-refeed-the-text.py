# The article's way: re-run the whole growing text for every new id (right ids, far more work).
# expect: time steps
def generate_greedy(model, prompt_ids, n):
    text = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n):
            logits, _ = model(torch.tensor([text]))
            text.append(int(logits[0, -1].argmax()))
    return text[len(prompt_ids):]
