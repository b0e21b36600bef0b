"""The unit-cube point sets behind every sampler."""

import numpy as np
import pytest
import torch
from scipy.stats import qmc

from pinnkit.geometry.unit_samples import METHODS, even_subset, grid_shape, make_rng, unit_samples


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("m,d", [(1, 1), (7, 1), (100, 2), (333, 3), (50, 6)])
def test_exact_count_open_cube_distinct(method, m, d):
    u = unit_samples(m, d, method, make_rng(0))
    assert u.shape == (m, d)
    assert np.all(u > 0) and np.all(u < 1)
    assert len(np.unique(u, axis=0)) == m


@pytest.mark.parametrize("method", METHODS)
def test_seed_reproducible(method):
    a = unit_samples(200, 3, method, make_rng(5))
    b = unit_samples(200, 3, method, make_rng(5))
    np.testing.assert_array_equal(a, b)
    c = unit_samples(200, 3, method, make_rng(6))
    assert (method in ("uniform", "hammersley")) == np.array_equal(a, c)  # only the deterministic ones agree


def test_torch_generator_seed_is_reproducible():
    a = unit_samples(64, 2, "random", make_rng(torch.Generator().manual_seed(3)))
    b = unit_samples(64, 2, "random", make_rng(torch.Generator().manual_seed(3)))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["sobol", "halton", "hammersley", "lhs"])
def test_low_discrepancy_beats_random(method):
    """Centred L2 discrepancy of 1024 points in 2-D: quasi-random sets are far more even than random ones."""
    rand = np.median([qmc.discrepancy(unit_samples(1024, 2, "random", make_rng(s))) for s in range(5)])
    assert qmc.discrepancy(unit_samples(1024, 2, method, make_rng(0))) < 0.5 * rand


def test_uniform_grid_follows_aspect():
    u = unit_samples(200, 2, "uniform", make_rng(0), aspect=np.array([4.0, 1.0]), exact=False)
    nx, ny = len(np.unique(u[:, 0])), len(np.unique(u[:, 1]))
    assert nx * ny == len(u) >= 200
    assert 3.0 <= nx / ny <= 5.0
    counts = grid_shape(1000, np.array([1.0, 1.0, 1.0]))
    assert counts == [10, 10, 10]


def test_even_subset_spreads_indices():
    idx = even_subset(10, 4)
    np.testing.assert_array_equal(idx, [0, 3, 6, 9])
    assert len(np.unique(even_subset(1001, 1000))) == 1000


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="method must be one of"):
        unit_samples(10, 2, "grid", make_rng(0))
    with pytest.raises(ValueError, match="seed must be"):
        make_rng("abc")
