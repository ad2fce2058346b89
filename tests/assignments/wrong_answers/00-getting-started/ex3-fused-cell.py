# The fused cell function: the whole step in one call.
# expect: used torch\.rnn_tanh_cell
def rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return torch.rnn_tanh_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
