# Multiplies by Wh transposed, as nn.RNN's stored weight_hh would need.
# expect: Wh transposed
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)
