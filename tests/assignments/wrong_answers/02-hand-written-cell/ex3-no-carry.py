# The backward pass forgets the gradient flowing back from step t + 1.
# expect: not passed back to step t
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx, dWx, dWh, db = [None] * T, 0, 0, 0
    for t in reversed(range(T)):
        dx[t], dprev, a, b_, c = rnn_step_backward(dh[:, t], cache[t])
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return np.stack(dx, axis=1), dprev, dWx, dWh, db
