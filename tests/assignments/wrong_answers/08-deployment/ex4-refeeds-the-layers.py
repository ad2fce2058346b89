# Re-runs the growing text through the model's layers each step, around the model's own call.
# expect: each call should feed one id|first call of the model
def stream_greedy(model, prompt_ids, n):
    text = list(prompt_ids)
    with torch.inference_mode():
        for _ in range(n):
            out, _ = model.rnn(model.embed(torch.tensor([text])))
            token = int(model.head(out[0, -1]).argmax())
            text.append(token)
            yield token
