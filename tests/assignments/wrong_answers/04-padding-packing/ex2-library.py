# The course's own helper returns the answer.
# expect: used rnncourse\.nn\.padded
import rnncourse.nn.padded


def last_hidden_bidirectional(output, lengths):
    return rnncourse.nn.padded.final_states(output, torch.as_tensor(lengths), 2)
