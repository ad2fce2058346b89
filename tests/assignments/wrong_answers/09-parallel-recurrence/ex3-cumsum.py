# cumsum of exponentials where logcumsumexp is needed: overflows at long T.
# expect: inf or NaN at long T|NaN
def log_scan(log_a, log_b, log_h0):
    a_star = torch.cumsum(log_a, dim=1)
    terms = torch.cat([log_h0.unsqueeze(1), log_b - a_star], dim=1)
    return torch.exp(a_star + torch.log(torch.cumsum(torch.exp(terms), dim=1))[:, 1:])
