"""Pure-PyTorch references of every srkit op: the ``torch`` backend, and the ground truth of the tests."""
