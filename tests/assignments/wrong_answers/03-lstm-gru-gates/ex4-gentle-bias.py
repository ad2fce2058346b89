# A bias of 5: sigmoid(5) is 0.993, not 1, and the state leaks away.
# expect: c_n after
def make_lstm_keep_state(lstm):
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("weight"):
                p[:2 * H] = 0.0
            elif name.startswith("bias_ih"):
                p[:H] = -5.0
                p[H:2 * H] = 5.0
            else:
                p[:2 * H] = 0.0
