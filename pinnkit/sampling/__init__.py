"""Adaptive collocation samplers: fixed, resampled, RAR-D, R3, Causal R3, causal time weighting."""
