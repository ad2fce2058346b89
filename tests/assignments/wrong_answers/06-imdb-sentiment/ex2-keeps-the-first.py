# Keeps the first max_len tokens.
# expect: the task keeps the last ones
def encode_and_pad(token_lists, stoi, max_len, pad_index=0, unk_index=1):
    encoded = []
    for i, tokens in enumerate(token_lists):
        if not tokens:
            raise ValueError(f"review {i} is empty")
        encoded.append(torch.tensor([stoi.get(t, unk_index) for t in tokens[:max_len]], dtype=torch.int64))
    return pad_sequence(encoded, batch_first=True, padding_value=pad_index), torch.tensor([len(e) for e in encoded])
