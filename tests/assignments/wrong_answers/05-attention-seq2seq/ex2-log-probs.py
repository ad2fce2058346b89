# Log-probabilities returned where the raw logits of the output layer are asked.
# expect: log-probabilities \(a log_softmax\)
def decoder_step(prev, h, c, memory, mask, parts, attend):
    emb = parts.embedding(prev)
    context, weights = attend(h, memory, mask)
    h_new, c_new = parts.cell(torch.cat([emb, context], dim=-1), (h, c))
    logits = parts.out(torch.cat([h_new, context], dim=-1))
    return logits.log_softmax(-1), h_new, c_new, weights
