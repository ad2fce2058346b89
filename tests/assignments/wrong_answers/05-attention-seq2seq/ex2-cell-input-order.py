# The cell's input concatenated as [context ; emb] (same size, wrong order).
# expect: wrong order
def decoder_step(prev, h, c, memory, mask, parts, attend):
    emb = parts.embedding(prev)
    context, weights = attend(h, memory, mask)
    h_new, c_new = parts.cell(torch.cat([context, emb], dim=-1), (h, c))
    return parts.out(torch.cat([h_new, context], dim=-1)), h_new, c_new, weights
