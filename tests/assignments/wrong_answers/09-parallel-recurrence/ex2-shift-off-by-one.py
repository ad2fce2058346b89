# Off by one in the shift: each round combines position t with position t - d - 1.
def parallel_scan(a, b, h0):
    A, B, d = a, b, 1
    T = a.shape[1]
    while d < T:
        shift = min(d + 1, T)
        A_before = F.pad(A[:, :T - shift], (0, 0, shift, 0), value=1.0)
        B_before = F.pad(B[:, :T - shift], (0, 0, shift, 0), value=0.0)
        A, B = A * A_before, A * B_before + B
        d *= 2
    return A * h0.unsqueeze(1) + B
