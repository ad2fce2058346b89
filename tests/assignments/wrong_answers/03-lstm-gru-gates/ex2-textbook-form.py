# The textbook GRU: r applied to h before the projection, one bias for n.
# expect: where r acts
def gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    xr, xz, xn = np.split(x @ weight_ih.T + bias_ih, 3, axis=1)
    W_hr, W_hz, W_hn = np.split(weight_hh, 3, axis=0)
    b_hr, b_hz, b_hn = np.split(bias_hh, 3)
    r, z = sigmoid(xr + h @ W_hr.T + b_hr), sigmoid(xz + h @ W_hz.T + b_hz)
    n = np.tanh(xn + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h
