# Pads every review to max_len.
# expect: not to max_len
def encode_and_pad(token_lists, stoi, max_len, pad_index=0, unk_index=1):
    ids = torch.full((len(token_lists), max_len), pad_index, dtype=torch.int64)
    lengths = []
    for i, tokens in enumerate(token_lists):
        if not tokens:
            raise ValueError(f"review {i} is empty")
        kept = [stoi.get(t, unk_index) for t in tokens[-max_len:]]
        ids[i, : len(kept)] = torch.tensor(kept)
        lengths.append(len(kept))
    return ids, torch.tensor(lengths)
