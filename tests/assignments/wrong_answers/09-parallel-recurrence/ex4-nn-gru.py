# nn.GRU with the hidden weights zeroed: the right numbers, by running the steps one by one.
# expect: used torch\.nn\.GRU|nn\.GRU
def mingru_forward(x, h0, weight_z, bias_z, weight_h, bias_h):
    H, D = weight_z.shape
    gru = nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        gru.weight_hh_l0.zero_()
        gru.bias_hh_l0.zero_()
        gru.weight_ih_l0.copy_(torch.cat([torch.zeros_like(weight_z), -weight_z, weight_h]))
        gru.bias_ih_l0.copy_(torch.cat([torch.zeros_like(bias_z), -bias_z, bias_h]))
    return gru(x, h0.unsqueeze(0))[0]
