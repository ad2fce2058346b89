# Computes the step with torch and converts back.
# expect: used torch
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    t = lambda a: torch.from_numpy(a)
    next_h = torch.tanh(t(x) @ t(Wx) + t(prev_h) @ t(Wh) + t(b)).numpy()
    return next_h, (x, prev_h, Wx, Wh, next_h)
