# A loop over time in log space: stable, but not the closed form (depth T).
# expect: grows like T
def log_scan(log_a, log_b, log_h0):
    log_h, states = log_h0, []
    for t in range(log_a.shape[1]):
        log_h = torch.logaddexp(log_a[:, t] + log_h, log_b[:, t])
        states.append(log_h)
    return torch.exp(torch.stack(states, dim=1))
