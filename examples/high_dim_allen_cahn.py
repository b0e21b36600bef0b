"""High-dimensional Allen-Cahn on the unit ball with STDE (Shi et al. 2024):

    Laplacian(u) + u - u^3 = g  in B^d,   u = 0 on the sphere,

with the two-body exact solution u*(x) = (1 - |x|^2) sum_{i=1}^{d-1} c_i sin(x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)),
c_i ~ N(0, 1), and g = Laplacian(u*) + u* - u*^3 (closed form, pinnkit.pde.references.TwoBody). Everything else
(hard constraint, sampling, STDE Laplacian, outputs, options) is examples/high_dim_poisson.py with
``--equation allen_cahn``.

Run ``python examples/high_dim_allen_cahn.py --dim 1000 --out out/high_dim_allen_cahn`` (``--quick`` for a smoke
test).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from high_dim_poisson import main  # noqa: E402

if __name__ == "__main__":
    main(equation="allen_cahn")
