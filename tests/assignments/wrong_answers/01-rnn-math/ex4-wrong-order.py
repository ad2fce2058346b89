# Multiplies the factors in the other order (the factor for t = T on the right).
# expect: how the factors are multiplied together
def jacobian_norms(W_hh, hs, nonlinearity):
    T, n = hs.shape[0] - 1, W_hh.shape[0]
    product, norms = np.eye(n), [1.0]
    for t in range(T, 0, -1):
        slope = {"tanh": 1.0 - hs[t] ** 2, "relu": (hs[t] > 0).astype(float), "linear": np.ones(n)}[nonlinearity]
        product = (slope[:, None] * W_hh) @ product
        norms.append(np.linalg.norm(product, 2))
    return np.array(norms)
