# Runs torch's own RNN on the NumPy weights.
# expect: used torch\.nn\.RNN
def rnn_forward_numpy(x, params, num_layers, nonlinearity="tanh", h0=None):
    rnn = nn.RNN(x.shape[2], params["weight_hh_l0"].shape[0], num_layers=num_layers, nonlinearity=nonlinearity,
                 bias="bias_ih_l0" in params, batch_first=True, dtype=torch.float64)
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    return out.numpy(), h_n.numpy()
