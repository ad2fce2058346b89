# Builds the module and counts its parameters.
# expect: used torch\.nn\.(RNN|GRU|LSTM)
def recurrent_parameter_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0):
    options = {"proj_size": proj_size} if proj_size else {}
    module = getattr(nn, mode)(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, **options)
    return sum(p.numel() for p in module.parameters())
