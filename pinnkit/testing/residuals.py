r"""Residuals of exact solutions: :func:`assert_residual_vanishes` (every PDE term at interior points) and
:func:`assert_conditions_hold` (every condition at its own points), each through every derivative backend that
can differentiate the solution."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..checks import check_positive_int, check_seed
from ..geometry.unit_samples import method_for_dim
from ..pde.problem import Problem
from ._support import (
    Backends,
    Solution,
    check_tolerances,
    float64_net,
    pde_parameters,
    raise_failures,
    residual_failure,
    select_backends,
)


def _check_problem(problem: object) -> Problem:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a pinnkit Problem; got {type(problem).__name__}")
    return problem


def _scale(net, points: torch.Tensor) -> float:
    """The largest absolute output of the solution at ``points`` (what ``rtol`` is relative to)."""
    with torch.no_grad():
        return float(net(points).abs().max())


def assert_residual_vanishes(problem: Problem, solution: Solution, *, atol: float = 1e-8, rtol: float = 0.0,
                             points: int = 64, seed: int = 0, backends: Backends = None,
                             parameters: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    r"""Check that ``solution`` satisfies the PDE of ``problem``: every PDE term's residual is ~0 at sampled
    interior points, with the derivatives of every backend.

    What is checked: at ``points`` float64 Sobol points of ``problem.domain``'s interior (seed ``seed``), each
    PDE term :math:`r_m` of the problem's residual (``problem.pde_terms``) satisfies
    :math:`\max_n |r_m(x_n)| \le \text{atol} + \text{rtol}\cdot\max_{n,j} |u_j(x_n)|` (the tolerance relative to
    the largest output of the solution at those points), for every backend in ``backends``.

    Parameters
    ----------
    problem : Problem
    solution : callable or nn.Module
        The exact solution, points (N, d) -> outputs (N, k) in the problem's output order (``(N,)`` for one
        output), differentiable by torch in float64. A plain function is wrapped in a module; it has no jet, so
        only the reverse-mode backends (``"autograd"``, ``"zcs"``) can differentiate it. A module that is not
        float64 is checked as a float64 copy.
    atol, rtol : float
        Tolerance (see above).
    points : int
        How many interior points.
    seed : int
        Seed of the Sobol sample.
    backends : None, a name or Backend, or a sequence of them
        ``None``: every backend of ``pinnkit.derivatives.backend_names("pinn")`` whose ``check`` accepts the
        solution (``"taylor"`` for a module with a jet); named backends must all accept it (``ValueError``).
    parameters : mapping name -> float, optional
        Values of PDE parameters to use instead of the problem's initial values.

    Returns
    -------
    dict backend name -> {term: max |residual|}, when every term of every backend passes.

    Raises
    ------
    AssertionError
        Naming, for each failing term and backend, the worst point (coordinates by name), the residual there, the
        max and RMS over the points, and the tolerance.

    Example
    -------
    >>> problem = pk.Problem(G.Interval(-1, 1) * G.TimeDomain(0, 1), equations.burgers(0.05))
    >>> front = lambda p: 0.3 - 0.5 * torch.tanh(0.5 * (p[:, 0] - 0.3 * p[:, 1]) / 0.1)
    >>> assert_residual_vanishes(problem, front, atol=1e-9)  # autograd and zcs
    """
    problem = _check_problem(problem)
    atol, rtol = check_tolerances(atol, rtol)
    n, seed = check_positive_int(points, "points"), check_seed(seed)
    net = float64_net(solution)
    chosen = select_backends(net, backends)
    values = pde_parameters(problem, parameters)
    x = problem.domain.sample_interior(n, "sobol", seed=seed, dtype=torch.float64)
    tolerance = atol + rtol * (_scale(net, x) if rtol else 0.0)
    text = f"atol {atol:g}" + (f" + rtol {rtol:g} * max |u|" if rtol else "")
    report: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    for backend in chosen:
        r = problem.evaluator(net, backend, values).pde_residual(x)
        r = r[:, None] if r.ndim == 1 else r
        report[backend.name] = {}
        for m, term in enumerate(problem.pde_terms):
            largest, message = residual_failure(f"PDE term {term!r} (backend {backend.name!r})", r[:, m], x,
                                                problem.domain.names, tolerance, text)
            report[backend.name][term] = largest
            if message:
                failures.append(message)
    raise_failures(failures, len(chosen) * len(problem.pde_terms), "residual checks")
    return report


def assert_conditions_hold(problem: Problem, solution: Solution, *, atol: float = 1e-8, rtol: float = 0.0,
                           seed: int = 0, backends: Backends = None) -> dict[str, dict[str, float]]:
    r"""Check that ``solution`` satisfies every condition of ``problem`` (boundary, initial, periodic, data).

    What is checked: for each condition ``c`` (``problem.conditions``), its residual (``u - g`` for a Dirichlet
    condition, ``du/dn - g`` for a Neumann one, ...; see :mod:`pinnkit.pde.conditions`) at its own points,
    sampled as the problem samples them (``problem.sample_conditions(seed)``, float64), satisfies
    :math:`\max_n |r_c(x_n)| \le \text{atol} + \text{rtol}\cdot\max_{n,j} |u_j(x_n)|`, for every backend.
    ``solution`` and ``backends`` are as for :func:`assert_residual_vanishes`.

    Returns dict backend name -> {condition name: ``max |residual|``}; raises ``AssertionError`` naming the
    condition and its kind, the backend, the worst point, the residual there, the max and RMS and the tolerance.

    Example
    -------
    >>> initial = pk.InitialCondition(lambda p: torch.sin(math.pi * p[:, 0]))
    >>> problem = pk.Problem(G.Interval(0, 1) * G.TimeDomain(0, 1), equations.heat(0.3),
    ...                      conditions=[initial, pk.DirichletBC(value=0.0)])
    >>> exact = lambda p: torch.exp(-0.3 * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0])
    >>> assert_conditions_hold(problem, exact)  # {'autograd': {'initial_u': ..., 'dirichlet_u_boundary': ...}, ...}
    """
    problem = _check_problem(problem)
    atol, rtol = check_tolerances(atol, rtol)
    seed = check_seed(seed)
    if not problem.conditions:
        raise ValueError("problem has no conditions to check")
    net = float64_net(solution)
    chosen = select_backends(net, backends)
    condition_points = problem.sample_conditions(seed)
    probe = problem.domain.sample_interior(1, method_for_dim("sobol", problem.domain.dim), seed=0,
                                           dtype=torch.float64)  # one PDE row in the batch
    batch = problem.batch(probe, condition_points, dtype=torch.float64)
    tolerance = atol + rtol * (_scale(net, batch.points) if rtol else 0.0)
    text = f"atol {atol:g}" + (f" + rtol {rtol:g} * max |u|" if rtol else "")
    report: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    for backend in chosen:
        out = problem.evaluator(net, backend).residuals(batch)
        report[backend.name] = {}
        for c in problem.conditions:
            what = f"condition {c.name!r} ({c.kind}, output {c.output!r}; backend {backend.name!r})"
            largest, message = residual_failure(what, out[c.name], condition_points[c.name], problem.domain.names,
                                                tolerance, text)
            report[backend.name][c.name] = largest
            if message:
                failures.append(message)
    raise_failures(failures, len(chosen) * len(problem.conditions), "condition checks")
    return report
