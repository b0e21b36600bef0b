""":class:`pinnkit.derivatives.Compiled`: each cache compiles its functions for itself, however many others a
process holds (torch.compile keeps its graphs and its recompile limit on a function's code object)."""

from __future__ import annotations

import torch

from pinnkit.derivatives.protocol import Compiled


def scaled_tanh(x: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
    return scale * torch.tanh(x)


def test_every_cache_compiles_its_own_graphs_past_torchs_recompile_limit():
    limit = torch._dynamo.config.recompile_limit
    caches = []
    for size in range(1, limit + 4):  # a new shape per cache: one code object would run out of graphs at `limit`
        cache = Compiled()
        x = torch.linspace(-1, 1, size, dtype=torch.float64)
        torch.testing.assert_close(cache.call(scaled_tanh, x), 2.0 * torch.tanh(x), rtol=1e-15, atol=0)
        cache.call(scaled_tanh, x)  # the same shape again: no new graph
        assert cache.compilations == 1, f"cache {size} ran eagerly or recompiled"
        caches.append(cache)
    assert repr(caches[0]) == "Compiled(1 functions, 1 graphs)"
