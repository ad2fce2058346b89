# The gate on the wrong term: z weighs the previous state and 1 - z the candidate.
# expect: gate on the wrong term
def mingru_forward(x, h0, weight_z, bias_z, weight_h, bias_h):
    z = torch.sigmoid(x @ weight_z.T + bias_z)
    candidate = torch.tanh(x @ weight_h.T + bias_h)
    return parallel_scan(z, (1 - z) * candidate, h0)
