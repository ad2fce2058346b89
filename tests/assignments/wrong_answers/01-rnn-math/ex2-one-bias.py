# Uses bias_ih only.
# expect: the bias_hh biases left out
def rnn_forward_numpy(x, params, num_layers, nonlinearity="tanh", h0=None):
    activation = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    batch, seq_len, _ = x.shape
    hidden = params["weight_hh_l0"].shape[0]
    layer_input, last = x, []
    for layer in range(num_layers):
        b = params.get(f"bias_ih_l{layer}", 0.0)
        h = np.zeros((batch, hidden)) if h0 is None else h0[layer]
        states = []
        for t in range(seq_len):
            h = activation(layer_input[:, t] @ params[f"weight_ih_l{layer}"].T + h @ params[f"weight_hh_l{layer}"].T + b)
            states.append(h)
        layer_input = np.stack(states, axis=1)
        last.append(h)
    return layer_input, np.stack(last)
