# The course's sampler instead of writing one.
# expect: sample_token
from rnncourse.nn.sampling import sample_token


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    return sample_token(logits, temperature=temperature, top_k=top_k, generator=generator)
