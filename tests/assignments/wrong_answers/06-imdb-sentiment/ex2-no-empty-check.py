# Lets an empty review through.
# expect: should raise ValueError
def encode_and_pad(token_lists, stoi, max_len, pad_index=0, unk_index=1):
    encoded = [torch.tensor([stoi.get(t, unk_index) for t in tokens[-max_len:]], dtype=torch.int64)
               for tokens in token_lists]
    return pad_sequence(encoded, batch_first=True, padding_value=pad_index), torch.tensor([len(e) for e in encoded])
