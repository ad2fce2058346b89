# Sets only the biases to +-50: large inputs still move the gates.
# expect: inputs of size about 1000
def make_lstm_keep_state(lstm):
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_ih"):
                p[:H] = -50.0
                p[H:2 * H] = 50.0
            elif name.startswith("bias_hh"):
                p[:2 * H] = 0.0
