# The output layer fed [context ; h_new] instead of [h_new ; context].
# expect: wrong order
def decoder_step(prev, h, c, memory, mask, parts, attend):
    emb = parts.embedding(prev)
    context, weights = attend(h, memory, mask)
    h_new, c_new = parts.cell(torch.cat([emb, context], dim=-1), (h, c))
    return parts.out(torch.cat([context, h_new], dim=-1)), h_new, c_new, weights
