"""One trainer at a time for the objects that hold a trainer's moving state (samplers, weightings).

A sampler holds its trainer's points, schedule and random stream; a weighting its trainer's problem and stage.
Given to a second trainer while the first is still alive, it would move the first one's points too, or keep
points of the first domain in the second. :meth:`TrainerPart.claim` therefore refuses an object that another
live trainer holds; an object whose trainer is gone (or never came to be, after an error) is bound afresh, and
its ``setup`` starts its state again from the new domain and seed. A copy (``copy.deepcopy``) has no owner.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any


class TrainerPart:
    """Base of the objects that hold part of one trainer's moving state: :meth:`claim` binds one to its owner
    (held by a weak reference, so it does not keep the owner alive); :meth:`info` adds scalars to the history and
    :meth:`state_dict` / :meth:`load_state_dict` carry the state through checkpoints (defaults: nothing)."""

    def claim(self, owner: object, argument: str) -> None:
        """Bind to ``owner``; a ``ValueError`` naming ``argument`` if another live owner holds this object."""
        ref = self.__dict__.get("_owner")
        current = ref() if ref is not None else None
        taken = current is not None and current is not owner
        del current  # the error's traceback must not keep the other owner alive
        if taken:
            raise ValueError(
                f"{argument}: this {type(self).__name__} is already in use by another trainer, whose points and "
                f"state it holds; give each trainer its own {argument} (a new one, or copy.deepcopy of one that "
                "no trainer has used yet)")
        self._owner = weakref.ref(owner)

    def info(self) -> dict[str, float]:
        """Scalars worth logging with the history (e.g. a schedule's position); default none."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The moving state, as plain data for a ``weights_only`` checkpoint; default none."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        del state

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_owner", None)  # copies and pickles belong to no trainer
        return state


def weak_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` (a bound method) as a callable that does not keep its object alive, for handing an owner's
    method to the object it owns (a trainer's residual to its sampler) without a reference back."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        if bound is None:
            raise RuntimeError("the trainer this sampler was bound to no longer exists; bind it to a new trainer")
        return bound(*args, **kwargs)

    return call
