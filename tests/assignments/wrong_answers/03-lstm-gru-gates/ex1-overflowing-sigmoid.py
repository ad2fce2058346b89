# A sigmoid written as exp(v) / (1 + exp(v)): inf / inf = NaN for saturated gates.
# expect: NaN
def lstm_cell_forward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    ai, af, ag, ao = np.split(a, 4, axis=1)
    sigmoid = lambda v: np.exp(v) / (1 + np.exp(v))
    c_next = sigmoid(af) * c + sigmoid(ai) * np.tanh(ag)
    return sigmoid(ao) * np.tanh(c_next), c_next
