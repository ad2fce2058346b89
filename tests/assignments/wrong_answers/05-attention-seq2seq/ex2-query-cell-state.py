# The LSTM's cell state c used as the attention query instead of the hidden state h.
# expect: PREVIOUS hidden state
def decoder_step(prev, h, c, memory, mask, parts, attend):
    emb = parts.embedding(prev)
    context, weights = attend(c, memory, mask)
    h_new, c_new = parts.cell(torch.cat([emb, context], dim=-1), (h, c))
    return parts.out(torch.cat([h_new, context], dim=-1)), h_new, c_new, weights
