"""Optimizers for sums of loss terms: MultiAdam, ConFIG, M-ConFIG, PCGrad, and L-BFGS through the Trainer."""
