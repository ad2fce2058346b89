# The course's own helper returns the answer.
# expect: used rnncourse\.nn\.padded
from rnncourse.nn.padded import final_states


def last_hidden(output, lengths):
    return final_states(output, torch.as_tensor(lengths), 1)
