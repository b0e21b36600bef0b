"""Derivatives of networks with respect to their input coordinates: one package for every engine.

* :mod:`~pinnkit.derivatives.multi_index`: multi-indices, jet closures, Leibniz and Faà di Bruno tables;
* :mod:`~pinnkit.derivatives.engine`: :class:`Derivatives`, the interface every engine implements;
* engines: :class:`AutogradDerivatives` (reverse mode), :class:`ZCSDerivatives` (zero coordinate shift),
  :class:`JetDerivatives` (Taylor mode, for a network with a jet), and for operator networks
  :class:`TaylorDerivatives` (a DeepONet's trunk jet), :class:`LoopDerivatives` and :class:`ReplicatedDerivatives`;
* :mod:`~pinnkit.derivatives.protocol`: the jet protocol a network implements to take part in Taylor mode
  (:func:`supports_jet`, :func:`check_jet`), and :mod:`~pinnkit.derivatives.jet_algebra` for jets of sums and
  products;
* :class:`LinearCombination`: derivative fields combined lazily (one backward pass per combination with ZCS);
* :mod:`~pinnkit.derivatives.operators` (:class:`Laplacian`, :class:`SecondOrder`, :class:`Biharmonic`): linear
  operators a residual applies, exact with every engine and estimated by random jets (STDE,
  :mod:`~pinnkit.derivatives.stochastic`) with :class:`StochasticDerivatives` (backend ``"stde"``);
* :mod:`~pinnkit.derivatives.backend`: :class:`Backend` (name and ``compile``), :data:`BACKENDS`,
  :func:`backend_names`, :func:`as_backend`.

This package sits below :mod:`pinnkit.nets` and :mod:`pinnkit.pde`: it imports neither (networks implement its
protocol).
"""

from .backend import BACKENDS, KINDS, Backend, as_backend, backend_names
from .engine import Derivatives
from .linear_combination import LinearCombination, materialize
from .loop import LoopDerivatives
from .multi_index import MultiIndex, jet_closure
from .operator_taylor import TaylorDerivatives
from .operators import Biharmonic, Laplacian, Operator, SecondOrder
from .protocol import Compiled, Jet, check_jet, check_trunk_jet, supports_jet, supports_trunk_jet, traceable_jet
from .replicated import ReplicatedDerivatives
from .reverse import AutogradDerivatives
from .stde import StochasticDerivatives
from .stochastic import directional_derivatives, laplacian_estimate, laplacian_exact
from .taylor import JetDerivatives
from .zcs import ZCSDerivatives

__all__ = [
    "BACKENDS", "KINDS", "AutogradDerivatives", "Backend", "Biharmonic", "Compiled", "Derivatives", "Jet",
    "JetDerivatives", "Laplacian", "LinearCombination", "LoopDerivatives", "MultiIndex", "Operator",
    "ReplicatedDerivatives", "SecondOrder", "StochasticDerivatives", "TaylorDerivatives", "ZCSDerivatives",
    "as_backend", "backend_names", "check_jet", "check_trunk_jet", "directional_derivatives", "jet_closure",
    "laplacian_estimate", "laplacian_exact", "materialize", "supports_jet", "supports_trunk_jet",
    "traceable_jet",
]
