# Lays h_n out batch first too when batch_first=True.
# expect: what batch_first changes, and what it does not
def rnn_output_shapes(config, batch, seq_len):
    hidden = config["hidden_size"]
    layers = config.get("num_layers", 1)
    directions = 2 if config.get("bidirectional", False) else 1
    if batch is None:
        return (seq_len, directions * hidden), (layers * directions, hidden)
    if config.get("batch_first", False):
        return (batch, seq_len, directions * hidden), (batch, layers * directions, hidden)
    return (seq_len, batch, directions * hidden), (layers * directions, batch, hidden)
