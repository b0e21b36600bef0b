"""Exercise 3: Neumann and Robin conditions.

On (0, 1), u'' = 6 x. Its solutions are u = x^3 + a x + b. The one we want has

    u(0) = 1   and   u'(1) = 1.

1. ``neumann_problem()``: the Dirichlet value at x = 0 and the Neumann value at x = 1 (the outward normal there
   is +1, so du/dn = u'(1)).
2. ``robin_problem()``: the same solution, with the same Dirichlet value at x = 0 but, at x = 1, a Robin
   condition ``alpha u + beta du/dn = g`` with alpha = 2 and beta = 3. Work out g from the solution.

Run ``python docs/course/exercises/check.py 3``.
"""

import pinnkit as pk

DOMAIN = pk.geometry.Interval(0, 1)


def residual(f):
    return f.u_xx - 6 * f.x


def neumann_problem() -> pk.Problem:
    """TODO: the problem with a DirichletBC at "left" and a NeumannBC at "right"."""
    raise NotImplementedError("TODO: Dirichlet and Neumann conditions")


def robin_problem() -> pk.Problem:
    """TODO: the problem with a DirichletBC at "left" and a RobinBC(alpha=2, beta=3) at "right"."""
    raise NotImplementedError("TODO: Dirichlet and Robin conditions")
