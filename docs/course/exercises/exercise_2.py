"""Exercise 2: Poisson's equation on the unit square with Dirichlet values on the whole boundary.

    -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y)  in (0, 1)^2,     u = x y  on the boundary.

Write the whole problem: domain, residual and boundary condition. Then run
``python docs/course/exercises/check.py 2``. The check knows the exact solution; you do not need it (but
finding it is a good exercise: try sin(pi x) sin(pi y) plus something harmonic).
"""

import pinnkit as pk


def build_problem() -> pk.Problem:
    """TODO: return a pk.Problem with output "u", the residual above and the Dirichlet condition."""
    raise NotImplementedError("TODO: build the Poisson problem")


if __name__ == "__main__":
    print(build_problem().terms)
