# The gate applied to the wrong term: h_t = h_{t-1} + a_t * b_t.
# expect: gate on the wrong term
def sequential_scan(a, b, h0):
    h, states = h0, []
    for t in range(a.shape[1]):
        h = h + a[:, t] * b[:, t]
        states.append(h)
    return torch.stack(states, dim=1)
