"""Reference solution of exercise 3. The solution is u = x^3 - 2 x + 1: u(0) = 1, u'(1) = 3 - 2 = 1 and
u(1) = 0, so the Robin value is g = 2 u(1) + 3 u'(1) = 3."""

import pinnkit as pk

DOMAIN = pk.geometry.Interval(0, 1)


def residual(f):
    return f.u_xx - 6 * f.x


def neumann_problem() -> pk.Problem:
    return pk.Problem(DOMAIN, residual, conditions=[pk.DirichletBC("left", 1.0), pk.NeumannBC("right", 1.0)])


def robin_problem() -> pk.Problem:
    return pk.Problem(DOMAIN, residual, conditions=[
        pk.DirichletBC("left", 1.0), pk.RobinBC("right", alpha=2.0, beta=3.0, value=3.0)])
