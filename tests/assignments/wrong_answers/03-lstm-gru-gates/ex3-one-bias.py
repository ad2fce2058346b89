# Counts one bias vector per gate block.
# expect: one bias vector per gate block
def recurrent_parameter_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0):
    blocks = {"RNN": 1, "GRU": 3, "LSTM": 4}[mode]
    directions = 2 if bidirectional else 1
    out = proj_size if proj_size else hidden_size
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else out * directions
        total += directions * (blocks * hidden_size * (layer_input + out + 1) + (proj_size * hidden_size if proj_size else 0))
    return total
