# Mixes up z and 1 - z.
# expect: z and 1 - z the other way round
def gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    xr, xz, xn = np.split(x @ weight_ih.T + bias_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ weight_hh.T + bias_hh, 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    return z * np.tanh(xn + r * hn) + (1 - z) * h
