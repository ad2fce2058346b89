# The sequential form: a loop over time steps.
# expect: loops over time
def mingru_forward(x, h0, weight_z, bias_z, weight_h, bias_h):
    h, states = h0, []
    for t in range(x.shape[1]):
        z = torch.sigmoid(x[:, t] @ weight_z.T + bias_z)
        h = (1 - z) * h + z * torch.tanh(x[:, t] @ weight_h.T + bias_h)
        states.append(h)
    return torch.stack(states, dim=1)
