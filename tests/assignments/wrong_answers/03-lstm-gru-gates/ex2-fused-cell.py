# torch.gru_cell on the converted arrays.
# expect: used torch\.gru_cell
def gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    t = torch.from_numpy
    return torch.gru_cell(t(x), t(h), t(weight_ih), t(weight_hh), t(bias_ih), t(bias_hh)).numpy()
