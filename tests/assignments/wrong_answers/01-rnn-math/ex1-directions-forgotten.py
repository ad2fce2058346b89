# Forgets that both directions' states sit side by side in output.
# expect: both directions' states side by side
def rnn_output_shapes(config, batch, seq_len):
    hidden = config["hidden_size"]
    layers = config.get("num_layers", 1)
    directions = 2 if config.get("bidirectional", False) else 1
    if batch is None:
        return (seq_len, hidden), (layers * directions, hidden)
    if config.get("batch_first", False):
        return (batch, seq_len, hidden), (layers * directions, batch, hidden)
    return (seq_len, batch, hidden), (layers * directions, batch, hidden)
