# The plain closed form, back from the logarithms: the cumulative product underflows.
# expect: used torch\.cumprod
def log_scan(log_a, log_b, log_h0):
    product = torch.cumprod(log_a.exp(), dim=1)
    return product * (log_h0.exp().unsqueeze(1) + torch.cumsum(log_b.exp() / product, dim=1))
