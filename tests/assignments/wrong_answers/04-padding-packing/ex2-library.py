# The course's own helper returns the answer.
# expect: used rnncourse\.padded
import rnncourse.padded


def last_hidden_bidirectional(output, lengths):
    return rnncourse.padded.final_states(output, torch.as_tensor(lengths), 2)
