"""Exact reference solutions of benchmark PDE problems, for validating trained models."""

from .allen_cahn import allen_cahn_grid, allen_cahn_solution
from .beltrami import beltrami_solution
from .burgers import burgers_exact, burgers_exact_grid
from .diffusion_reaction import diffusion_reaction
from .ghia import GHIA_REYNOLDS, ghia_centerlines, ghia_deviation
from .kovasznay import KOVASZNAY_DOMAIN, kovasznay_lambda, kovasznay_solution
from .lid_driven_cavity import CavityFlow, cavity_lid, lid_driven_cavity
from .taylor_green import taylor_green_solution

__all__ = ["KOVASZNAY_DOMAIN", "allen_cahn_grid", "allen_cahn_solution", "beltrami_solution", "burgers_exact",
           "burgers_exact_grid", "kovasznay_lambda", "kovasznay_solution", "taylor_green_solution"]
__all__ += ["CavityFlow", "GHIA_REYNOLDS", "cavity_lid", "ghia_centerlines", "ghia_deviation", "lid_driven_cavity"]
__all__ += ["diffusion_reaction"]
from .two_body import TwoBody  # noqa: E402

__all__ += ["TwoBody"]
from .hjb_lqg import HJBLQG  # noqa: E402

__all__ += ["HJBLQG"]
