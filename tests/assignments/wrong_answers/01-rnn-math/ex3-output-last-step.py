# The chapter's warning: h_n[-1] alone, or the last step of the output, is not both directions' final state.
# expect: the backward state first|output\[:, -1\]|first layer
def top_layer_final_states(h_n, num_layers, bidirectional):
    if not bidirectional:
        return h_n[-1]
    return torch.cat([h_n[-1], h_n[-2]], dim=1)
