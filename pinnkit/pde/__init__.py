"""Problems, conditions, ready-made equations and the derivative engine (autograd and ZCS)."""
