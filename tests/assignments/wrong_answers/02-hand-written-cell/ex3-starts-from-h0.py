# Every step reads h0 instead of the previous state.
# expect: every step starting from h0
def rnn_forward(x, h0, Wx, Wh, b):
    states, caches = [], []
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t], h0, Wx, Wh, b)
        states.append(h)
        caches.append(c)
    return np.stack(states, axis=1), caches
