# Trusts the padding targets to be -100 instead of using the lengths.
# expect: masked_cross_entropy on
def masked_cross_entropy(logits, targets, lengths):
    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100)
