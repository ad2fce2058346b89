# Runs the module itself.
# expect: used torch\.nn\.RNN
def stacked_rnn_forward(x, rnn, h0=None):
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0))
    return out.numpy(), h_n.numpy()
