# Leaves the reverse direction's states in reading order.
# expect: left in reading order
def stacked_rnn_forward(x, rnn, h0=None):
    directions = 2 if rnn.bidirectional else 1
    layer_input = x if rnn.batch_first else x.transpose(1, 0, 2)
    N = layer_input.shape[0]
    if h0 is None:
        h0 = np.zeros((rnn.num_layers * directions, N, rnn.hidden_size))
    weights, finals = rnn_weights_from_torch(rnn), []
    for layer in range(rnn.num_layers):
        outputs = []
        for d in range(directions):
            k = layer * directions + d
            states, _ = rnn_forward(layer_input if d == 0 else layer_input[:, ::-1], h0[k], *weights[k])
            finals.append(states[:, -1])
            outputs.append(states)
        layer_input = np.concatenate(outputs, axis=2)
    output = layer_input if rnn.batch_first else layer_input.transpose(1, 0, 2)
    return output, np.stack(finals)
