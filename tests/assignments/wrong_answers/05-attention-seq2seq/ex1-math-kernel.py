# The additive scores by hand, then PyTorch's math attention kernel for the mask, the softmax and
# the weighted sum (it returns the weights too), reached through torch.ops.aten.
# expect: used torch\.ops\.aten\._scaled_dot_product_attention_math
def masked_additive_attention(query, keys, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v          # (B, S)
    bias = torch.zeros_like(scores).masked_fill(~mask, float("-inf"))[:, None, :]
    ones = torch.ones_like(scores[:, :1, None])                            # a query of 1s
    context, weights = torch.ops.aten._scaled_dot_product_attention_math(
        ones, scores[:, :, None], keys, attn_mask=bias, scale=1.0)
    return context[:, 0], weights[:, 0]
