# torch.lstm_cell on the converted arrays.
# expect: used torch\.lstm_cell: this exercise asks you to write the gates yourself
def lstm_cell_forward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    t = torch.from_numpy
    h_next, c_next = torch.lstm_cell(t(x), (t(h), t(c)), t(weight_ih), t(weight_hh), t(bias_ih), t(bias_hh))
    return h_next.numpy(), c_next.numpy()
