# Takes bias_ih only.
# expect: bias_hh left out
def rnn_weights_from_torch(rnn):
    weights = []
    for layer in range(rnn.num_layers):
        for suffix in ["", "_reverse"][: 2 if rnn.bidirectional else 1]:
            get = lambda kind: getattr(rnn, f"{kind}_l{layer}{suffix}").detach().double().numpy()
            weights.append((get("weight_ih").T.copy(), get("weight_hh").T.copy(), get("bias_ih").copy()))
    return weights
