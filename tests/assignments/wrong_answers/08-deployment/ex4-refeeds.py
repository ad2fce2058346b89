# Re-reads the whole text for every new id and throws the state away.
# expect: feed one id \(1, 1\) with the state
def stream_greedy(model, prompt_ids, n):
    text = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n):
            logits, _ = model(torch.tensor([text]), None)
            token = int(logits[0, -1].argmax())
            text.append(token)
            yield token
