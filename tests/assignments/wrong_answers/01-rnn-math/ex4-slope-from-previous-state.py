# Takes the slope from h_{t-1} instead of h_t.
# expect: 1 - h_t\*\*2
def jacobian_norms(W_hh, hs, nonlinearity):
    T, n = hs.shape[0] - 1, W_hh.shape[0]
    product, norms = np.eye(n), [1.0]
    for t in range(T, 0, -1):
        slope = {"tanh": 1.0 - hs[t - 1] ** 2, "relu": (hs[t - 1] > 0).astype(float), "linear": np.ones(n)}[nonlinearity]
        product = product @ (slope[:, None] * W_hh)
        norms.append(np.linalg.norm(product, 2))
    return np.array(norms)
