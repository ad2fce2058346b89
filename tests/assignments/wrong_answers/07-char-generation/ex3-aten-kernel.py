# The cross-entropy kernel that F.cross_entropy calls, reached through torch._C._nn.
# expect: used torch\._C\._nn\.cross_entropy_loss
def bits_per_char(logits, targets):
    nats = torch._C._nn.cross_entropy_loss(logits.flatten(0, 1), targets.flatten())
    return float(nats / math.log(2))
