# The initial state left out of the running log-sum-exp.
# expect: initial state h0 dropped
def log_scan(log_a, log_b, log_h0):
    a_star = torch.cumsum(log_a, dim=1)
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))
