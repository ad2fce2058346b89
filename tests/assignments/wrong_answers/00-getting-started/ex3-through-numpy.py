# Computes the step in NumPy: right values, but autograd cannot follow them.
# expect: requires_grad
def rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = (x_t.detach().numpy() @ W_ih.detach().numpy().T + b_ih.detach().numpy()
         + h_prev.detach().numpy() @ W_hh.detach().numpy().T + b_hh.detach().numpy())
    return torch.from_numpy(np.tanh(a))
