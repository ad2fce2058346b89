# Re-runs the growing text through the model's inner layers, around the model's own call (a
# counter placed on the model's forward would not see it).
# expect: time steps
def generate_greedy(model, prompt_ids, n):
    text = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n):
            out, _ = model.rnn(model.embed(torch.tensor([text])))
            text.append(int(model.head(out[0, -1]).argmax()))
    return text[len(prompt_ids):]
