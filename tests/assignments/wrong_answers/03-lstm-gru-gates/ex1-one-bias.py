# Adds bias_ih only.
# expect: bias_hh left out
def lstm_cell_forward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    a = x @ weight_ih.T + bias_ih + h @ weight_hh.T
    ai, af, ag, ao = np.split(a, 4, axis=1)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    c_next = sigmoid(af) * c + sigmoid(ai) * np.tanh(ag)
    return sigmoid(ao) * np.tanh(c_next), c_next
