# Takes the first layer's states.
# expect: the states of the first layer
def top_layer_final_states(h_n, num_layers, bidirectional):
    if not bidirectional:
        return h_n[0]
    return torch.cat([h_n[0], h_n[1]], dim=1)
