# The closed form with a cumulative product and a cumulative sum (library scans, and it underflows).
# expect: used torch\.cumprod
def parallel_scan(a, b, h0):
    product = torch.cumprod(a, dim=1)
    return product * (h0.unsqueeze(1) + torch.cumsum(b / product, dim=1))
