"""The finite-difference diffusion–reaction reference: exact linear case, second-order grid convergence."""

from __future__ import annotations

import numpy as np
import pytest

from pinnkit.pde.references import diffusion_reaction

D = 0.01


def exact_linear(x, t):
    """u_t = D u_xx + sin(pi x), zero initial and boundary values."""
    return (1 - np.exp(-D * np.pi**2 * t))[None, :] * np.sin(np.pi * x)[:, None] / (D * np.pi**2)


def test_linear_case_against_its_exact_solution_at_second_order():
    errors = []
    for nx, substeps in ((26, 1), (51, 2), (101, 4)):
        x, t, u = diffusion_reaction(lambda x: np.sin(np.pi * x), reaction=0.0, nx=nx, nt=11, substeps=substeps)
        assert u.shape == (1, nx, 11)
        exact = exact_linear(x, t)
        errors.append(np.abs(u[0] - exact).max() / np.abs(exact).max())
    assert errors[-1] < 1e-5
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 1.9) & (orders < 2.1)), orders


def test_nonlinear_case_converges_at_second_order():
    x_fine = np.linspace(0, 1, 401)
    source = np.stack([np.exp(-30 * (x_fine - 0.4) ** 2) * 3, np.sin(3 * np.pi * x_fine) + x_fine])
    solutions = []
    for level, nx in enumerate((51, 101, 201, 401)):
        step = (401 - 1) // (nx - 1)
        _, _, u = diffusion_reaction(source[:, ::step], reaction=0.5, nx=nx, nt=6, substeps=5 * 2**level)
        solutions.append(u[:, ::(nx - 1) // 50])  # on the common 51-node grid
    differences = [np.abs(a - b).max() for a, b in zip(solutions, solutions[1:], strict=False)]
    ratios = np.array(differences[:-1]) / np.array(differences[1:])
    assert np.all((ratios > 3.5) & (ratios < 4.5)), ratios


def test_reaction_and_boundary_values():
    x, t, u = diffusion_reaction(np.ones(21), reaction=0.0, nx=21, nt=5)
    assert np.all(u[:, [0, -1], :] == 0) and np.all(u[:, :, 0] == 0)
    _, _, damped = diffusion_reaction(np.ones(21), reaction=5.0, nx=21, nt=5)
    assert np.all(damped[0, 1:-1, 1:] < u[0, 1:-1, 1:])  # -k u^2 only removes mass from a positive solution
    assert np.all(damped[0, 1:-1, 1:] > 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"source": np.ones(5), "nx": 6}, "source must have shape"),
    ({"source": np.ones(2), "nx": 2}, "nx must be >= 3"),
    ({"source": np.ones(5), "nx": 5, "diffusion": -1.0}, "diffusion must be >= 0"),
    ({"source": np.ones(5), "nx": 5, "interval": (1, 0)}, "interval must be"),
])
def test_errors(kwargs, message):
    source = kwargs.pop("source")
    with pytest.raises(ValueError, match=message):
        diffusion_reaction(source, **kwargs)
