# The last column: the state after the padding.
# expect: output\[:, -1\], the state after the padding
def last_hidden(output, lengths):
    return output[:, -1]
