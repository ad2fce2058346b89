# Builds the nn.RNN and reads the shapes off its output, which the task rules out.
# expect: used torch\.nn\.RNN
def rnn_output_shapes(config, batch, seq_len):
    size = config["input_size"]
    shape = (seq_len, size) if batch is None else (batch, seq_len, size) if config.get("batch_first") else (seq_len, batch, size)
    output, h_n = nn.RNN(**config)(torch.zeros(shape))
    return tuple(output.shape), tuple(h_n.shape)
