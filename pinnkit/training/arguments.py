"""Checks of the arguments the trainers share beyond :mod:`pinnkit.checks`."""

from __future__ import annotations


def check_compile(compile: object, backend: str) -> bool:
    """``compile`` if it is a bool that ``backend`` allows (``True`` needs ``"taylor"``: only a forward jet pass
    can go through ``torch.compile``), else a ``ValueError``."""
    if not isinstance(compile, bool):
        raise ValueError(f"compile must be True or False; got {compile!r}")
    if compile and backend != "taylor":
        raise ValueError(f"compile=True needs backend='taylor' (reverse-mode derivative graphs cannot be "
                         f"compiled); got backend={backend!r}")
    return compile
