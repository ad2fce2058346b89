# Lets autograd compute the Jacobians (the exercise says NumPy only).
# expect: used torch
def jacobian_norms(W_hh, hs, nonlinearity):
    W = torch.from_numpy(W_hh)
    f = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[nonlinearity]
    T = hs.shape[0] - 1
    norms = [1.0]
    product = torch.eye(W.shape[0], dtype=W.dtype)
    for t in range(T, 0, -1):
        h_prev = torch.from_numpy(hs[t - 1])
        J = torch.autograd.functional.jacobian(lambda h: f(W @ h + torch.from_numpy(np.arctanh(hs[t]) if nonlinearity == "tanh" else hs[t]) - W @ h_prev), h_prev)
        product = product @ J
        norms.append(float(torch.linalg.matrix_norm(product, ord=2)))
    return np.array(norms)
