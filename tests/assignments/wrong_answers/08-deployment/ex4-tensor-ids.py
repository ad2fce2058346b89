# Yields the argmax tensors where Python ints are asked (json cannot write them).
# expect: your stream_greedy yielded Tensor values
def stream_greedy(model, prompt_ids, n):
    with torch.inference_mode():
        logits, state = model(torch.tensor([prompt_ids]), None)
    for _ in range(n):
        token = logits[0, -1].argmax()
        yield token
        with torch.inference_mode():
            logits, state = model(token.view(1, 1), state)
