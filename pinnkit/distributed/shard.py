"""Each rank's share of the rows of a batch, and loss terms that are global means of the ranks' shares.

Rank ``q`` of ``W`` owns the contiguous block ``[floor(n q / W), floor(n (q+1) / W))`` of ``n`` rows, so the
blocks gathered in rank order are the rows in their global order (:func:`block_sizes`). A condition says how its
points split (:attr:`pinnkit.pde.conditions.Condition.rows`): point by point, by matched pairs (periodic
conditions), or not at all (a mean over all its points: every rank evaluates it whole).

A loss term of ``n`` rows ``L = (1/n) sum_i s_i`` (``s_i = w_i r_i^2`` summed over columns) is formed from the
ranks' partial sums ``S_q`` and row counts ``n_q`` (:func:`global_means`):

    value    = (sum_q S_q) / (sum_q n_q)          on every rank
    gradient = dS_q / (sum_q n_q)                  on rank q

so the gradients summed over the ranks are the gradient of ``L``. A condition evaluated whole on every rank counts
its rows ``W`` times and its sum ``W`` times: the value is the same, and each rank's gradient is ``1/W`` of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from ..pde.specification import Batch
from .collectives import sum_tensors, sum_values
from .ranks import Ranks


def block_sizes(n: int, world_size: int) -> list[int]:
    """The number of rows of each rank's block of ``n`` rows."""
    edges = [n * q // world_size for q in range(world_size + 1)]
    return [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]


def block(n: int, ranks: Ranks) -> slice:
    """This rank's block of ``n`` rows."""
    return slice(n * ranks.rank // ranks.world_size, n * (ranks.rank + 1) // ranks.world_size)


def condition_units(condition, n: int, ranks: Ranks) -> tuple[int, bool]:
    """How a condition's ``n`` points split (by its :attr:`rows`): the number of units its rows come in (points,
    or pairs for ``"pairs"``) and whether every rank evaluates it whole (``"whole"``, or fewer units than ranks,
    so that no rank evaluates an empty set)."""
    how = getattr(condition, "rows", "rows")
    if how not in ("rows", "pairs", "whole"):
        raise ValueError(f"{type(condition).__name__}.rows must be 'rows', 'pairs' or 'whole'; got {how!r}")
    units = n // 2 if how == "pairs" else n
    return units, how == "whole" or units < ranks.world_size


def condition_rows(condition, n: int, ranks: Ranks) -> Tensor:
    """Indices of this rank's points among a condition's ``n`` points (:func:`condition_units`)."""
    units, whole = condition_units(condition, n, ranks)
    if whole:
        return torch.arange(n)
    mine = torch.arange(units)[block(units, ranks)]
    return torch.cat([mine, mine + units]) if units != n else mine


def global_rows(batch: Batch, rows: Mapping[str, Tensor]) -> Tensor:
    """The rows of ``batch`` that :func:`shard_batch` gave this rank (its ``rows``), as indices into the whole
    batch in the order of the rank's share: what to take of anything else laid out by the batch's rows."""
    return torch.cat([index + batch.slices[name].start for name, index in rows.items()])


def shard_batch(batch: Batch, conditions: Sequence, ranks: Ranks) -> tuple[Batch, dict[str, Tensor]]:
    """This rank's share of ``batch`` (its block of the PDE points and of each condition's points and data), and
    ``name -> indices`` of its rows among the global rows of the PDE points (``"pde"``) and of each condition."""
    pde = batch.slices["pde"]
    own = {"pde": torch.arange(pde.stop - pde.start)[block(pde.stop - pde.start, ranks)]}
    rows = [own["pde"] + pde.start]
    slices, data, start = {"pde": slice(0, len(rows[0]))}, {}, len(rows[0])
    for c in conditions:
        s = batch.slices[c.name]
        index = own[c.name] = condition_rows(c, s.stop - s.start, ranks)
        rows.append(index + s.start)
        slices[c.name] = slice(start, start + len(index))
        start += len(index)
        shared = getattr(c, "shared_data", ())
        data[c.name] = {k: (v if k in shared else v[index.to(v.device)]) for k, v in batch.data[c.name].items()}
    device = batch.points.device
    return Batch(batch.points[torch.cat(rows).to(device)], slices, data), {k: v.to(device) for k, v in own.items()}


def local_weights(weights, rows: Mapping[str, Tensor]):
    """This rank's rows of a weighting's global ``weights`` (a tensor of the PDE points, or ``term -> tensor``;
    a 0-dim weight stays as it is)."""
    def take(w: Tensor, index: Tensor) -> Tensor:
        return w if w.ndim == 0 else w[index]
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        return {k: take(w, rows.get(k, rows["pde"])) for k, w in weights.items()}
    return take(weights, rows["pde"])


def square_sum(residual: Tensor, weights: Tensor | None = None, batch_axes: int = 1) -> tuple[Tensor, int]:
    """``(sum_i w_i r_i^2 summed over columns, number of rows)`` over the first ``batch_axes`` axes: the partial
    sum and count of :func:`~pinnkit.training.problem_objective.mean_square`'s mean."""
    square = residual.square()
    if weights is not None:
        square = square * (weights if square.ndim == 1 or weights.ndim == 0 else weights[:, None])
    count = 1
    for size in residual.shape[:batch_axes]:
        count *= size
    return square.sum(), count


def global_counts(batch: Batch, conditions: Sequence, ranks: Ranks, local: Mapping[str, int],
                  per_row: int = 1) -> dict[str, int]:
    """Each term's count of residual rows summed over the ranks, without a collective, from the global ``batch``
    and this rank's counts ``local`` (term -> :func:`square_sum`'s count): a PDE term or a split condition has one
    residual row per point, or per pair (:func:`condition_units`), times ``per_row`` (the functions of an operator
    batch, which every rank evaluates); a condition every rank evaluates whole counts ``W`` times its rank's
    count, as the ranks' counts add up."""
    pde = batch.slices["pde"]
    by_name = {c.name: c for c in conditions}
    out = {}
    for name, count in local.items():
        condition = by_name.get(name)
        if condition is None:  # a PDE term
            out[name] = per_row * (pde.stop - pde.start)
            continue
        s = batch.slices[name]
        units, whole = condition_units(condition, s.stop - s.start, ranks)
        out[name] = ranks.world_size * count if whole else per_row * units
    return out


def shares(parts: Mapping[str, tuple[Tensor, int]], counts: Mapping[str, int]) -> dict[str, Tensor]:
    """This rank's shares ``S_q / n`` of the loss terms (module docstring), from its ``name -> (partial sum S_q
    with graph, count)`` and the global counts ``name -> n`` (:func:`global_counts`): values and gradients both
    the rank's parts, so that summed over the ranks (:func:`whole_values`) they are the terms' values and
    gradients."""
    return {k: s / counts[k] for k, (s, _) in parts.items()}


def whole_values(terms: Mapping[str, Tensor], ranks: Ranks, also: Sequence[Tensor] = ()) -> dict[str, Tensor]:
    """The terms of :func:`shares` with their values summed over the ranks and their gradients left the rank's
    shares, in one all-reduce that also sums the tensors ``also`` in place (the loop sends the gradients with
    them: one message per step)."""
    names = list(terms)
    values = torch.stack([terms[k].detach().reshape(()) for k in names])
    sum_tensors([values, *also], ranks)
    return {k: values[i] + (terms[k] - terms[k].detach()) for i, k in enumerate(names)}


def global_means(parts: Mapping[str, tuple[Tensor, int]], ranks: Ranks) -> dict[str, Tensor]:
    """Loss terms from the ranks' ``name -> (partial sum with graph, row count)`` (module docstring), in one
    all-reduce of all sums and counts."""
    names = list(parts)
    sums = torch.stack([parts[k][0].detach().reshape(()) for k in names])
    counts = torch.tensor([float(parts[k][1]) for k in names], dtype=sums.dtype, device=sums.device)
    total = sum_values(torch.cat([sums, counts]), ranks)
    out = {}
    for i, k in enumerate(names):
        local, count = parts[k][0], total[len(names) + i]
        share = local / count  # carries the gradient; adds exactly zero to the value, the same on every rank
        out[k] = (total[i] / count).detach() + (share - share.detach())
    return out
