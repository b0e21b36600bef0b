"""Argument checks shared by every constructor of pinnkit: one consistent set, each a ``ValueError`` naming the
argument.

Every check is ``check_x(value, name, ...) -> normalised value``: it returns the value in its normal form (a
Python ``int`` or ``float``, a ``torch.device``, a float64 array) or raises ``ValueError`` with the message
``"{name} must be ...; got {value!r}"``. The same rules hold everywhere:

* ``bool`` is never a number (``True`` is refused where an int or a float is expected), nor is a string;
* numpy scalars are numbers (``np.int64(3)``, ``np.float32(0.5)``), normalised to Python ``int`` / ``float``;
* floats must be finite (``nan`` and ``inf`` are refused) unless a check says otherwise.

This module is the lowest layer of pinnkit: it imports only the standard library, numpy and torch, and nothing
of pinnkit, so that every module may import it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import torch


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# ---------------------------------------------------------------------------------------------------- integers
def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python ``int`` in ``[minimum, maximum]`` (either bound may be None: no bound)."""
    if minimum is not None and maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        expected = f"an integer >= {minimum}"
    elif maximum is not None:
        expected = f"an integer <= {maximum}"
    else:
        expected = "an integer"
    if not _is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return int(value)


def check_positive_int(value, name: str) -> int:
    """``value`` as a Python ``int >= 1``."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_non_negative_int(value, name: str) -> int:
    """``value`` as a Python ``int >= 0``."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def check_seed(value, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """``value`` as a non-negative Python ``int`` (a seed for numpy or torch generators); ``None`` stays ``None``
    where ``allow_none`` (fresh entropy)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer{' or None' if allow_none else ''}; got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------------- reals
def check_finite_float(value, name: str) -> float:
    """``value`` as a finite Python ``float``."""
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def check_positive_float(value, name: str) -> float:
    """``value`` as a finite Python ``float > 0``."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def check_non_negative_float(value, name: str) -> float:
    """``value`` as a finite Python ``float >= 0``."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number; got {value!r}")
    return float(value)


def check_in_interval(value, name: str, low: float, high: float, *, low_open: bool = False,
                      high_open: bool = False) -> float:
    """``value`` as a Python ``float`` in the interval from ``low`` to ``high`` (``[low, high]``; an end is
    excluded where ``low_open`` / ``high_open``)."""
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    ok = _is_real(value) and math.isfinite(value) and (low < value if low_open else low <= value) and (
        value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}")
    return float(value)


def check_probability(value, name: str) -> float:
    """``value`` as a Python ``float`` in ``[0, 1]``."""
    return check_in_interval(value, name, 0, 1)


def check_open_unit_interval(value, name: str) -> float:
    """``value`` as a Python ``float`` in ``(0, 1)``, both ends excluded."""
    return check_in_interval(value, name, 0, 1, low_open=True, high_open=True)


def check_lr(value, name: str = "lr") -> float:
    """A learning rate: ``value`` as a finite Python ``float > 0``."""
    return check_positive_float(value, name)


def check_betas(value, name: str = "betas") -> tuple[float, float]:
    """Adam's ``(beta1, beta2)``: two Python ``float`` in ``[0, 1)``."""
    try:
        b1, b2 = value
    except (TypeError, ValueError):
        b1 = b2 = None
    if not all(_is_real(b) and 0 <= b < 1 for b in (b1, b2)):
        raise ValueError(f"{name} must be a pair (beta1, beta2) of numbers in [0, 1); got {value!r}")
    return float(b1), float(b2)


def check_weights(value, name: str = "weights") -> tuple[float, ...] | None:
    """``None``, or a non-empty sequence of finite non-negative numbers, not all zero, as a tuple of ``float``."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(f"{name} must be None or a non-empty sequence of numbers; got {value!r}")
    if not all(_is_real(w) and math.isfinite(w) and w >= 0 for w in value):
        raise ValueError(f"{name} must be finite non-negative numbers; got {value!r}")
    if not any(value):
        raise ValueError(f"{name} must not be all zero; got {value!r}")
    return tuple(float(w) for w in value)


# ---------------------------------------------------------------------------------------------------- others
def check_bool(value, name: str) -> bool:
    """``value`` as a Python ``bool`` (``True``/``False`` or a numpy bool; not ``0``/``1`` nor a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """``value`` as one of the strings ``choices``, case and surrounding spaces ignored; returns the choice as
    spelled in ``choices``."""
    key = value.strip().lower() if isinstance(value, str) else None
    for choice in choices:
        if key == choice.lower():
            return choice
    raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")


_DTYPE_NAMES = {"float32": torch.float32, "float64": torch.float64}
_HALF = (torch.float16, torch.bfloat16)


def check_dtype(value, name: str = "dtype") -> torch.dtype:
    """``value`` as ``torch.float32`` or ``torch.float64``: a ``torch.dtype``, or the string ``"float32"`` /
    ``"float64"`` (``"torch.float64"``, case and surrounding spaces ignored), normalised to the ``torch.dtype``.

    Half precision (``float16``, ``bfloat16``) is refused: with 3 to 4 significant digits, the second derivatives
    of a PINN residual (differences of nearly equal numbers) are mostly rounding error, and the loss stalls.
    """
    if isinstance(value, str):
        key = value.strip().lower().removeprefix("torch.")
        value = _DTYPE_NAMES.get(key, getattr(torch, key, value) if key in ("float16", "bfloat16") else value)
    if value in _HALF:
        raise ValueError(f"{name} must be torch.float32 or torch.float64: half precision ({value}) has 3 to 4 "
                         f"significant digits, too few for the derivatives in a PINN residual; got {value!r}")
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"{name} must be a floating-point torch dtype such as torch.float32 or torch.float64 (or "
                         f"the string 'float32' or 'float64'); got {value!r}")
    return value


def check_device(value, name: str = "device") -> torch.device:
    """``value`` (a ``torch.device``, or a string such as ``"cpu"``, ``"cuda"``, ``"cuda:1"``) as a
    ``torch.device`` this machine has: CUDA (or MPS) where it is not available is refused, and so is a CUDA
    index beyond the devices present."""
    if isinstance(value, bool) or not isinstance(value, (str, torch.device)):
        raise ValueError(f"{name} must be a torch.device or a string such as 'cpu' or 'cuda'; got {value!r}")
    if isinstance(value, str) and value.strip().lower().split(":")[0] == "gpu":
        raise ValueError(f"{name} must be a torch.device or a string such as 'cpu' or 'cuda': torch calls an "
                         f"NVIDIA (or ROCm) GPU 'cuda', use 'cuda' or 'cuda:0'; got {value!r}")
    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise ValueError(f"{name} must be a torch.device or a string such as 'cpu' or 'cuda'; got {value!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} must be a device this machine has: CUDA is not available here "
                             f"(torch.cuda.is_available() is False), use 'cpu'; got {value!r}")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"{name} must be a device this machine has: it has {count} CUDA device(s), "
                             f"cuda:0 to cuda:{count - 1}; got {value!r}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} must be a device this machine has: MPS is not available here, use 'cpu'; "
                         f"got {value!r}")
    return device


def _float_array(value) -> np.ndarray | None:
    """``value`` as a new float64 array, or None where it holds anything but real numbers (complex included)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        if np.iscomplexobj(value) or isinstance(value, (str, bytes)):
            return None
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _shape_text(shape: Sequence[int | str]) -> str:
    parts = [str(s) for s in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def check_array(value, name: str, shape: Sequence[int | str] | None = None) -> np.ndarray:
    """``value`` (a number, a nested sequence, a numpy array or a tensor) as a finite float64 numpy array of
    ``shape``: an int entry is an exact size, a string entry (``"N"``) any size, named so in the message
    (``shape=None``: any shape). A new array: changing it leaves ``value`` as it was."""
    array = _float_array(value)
    if array is None:
        raise ValueError(f"{name} must be an array of real numbers; got {value!r}")
    if shape is not None and (array.ndim != len(shape) or any(
            not isinstance(s, str) and a != s for a, s in zip(array.shape, shape, strict=True))):
        raise ValueError(f"{name} must have shape {_shape_text(shape)}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {array.tolist()!r}")
    return array


def check_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """``value`` as a non-empty finite float64 vector (of length ``dim`` if given)."""
    array = _float_array(value)
    if array is None:
        raise ValueError(f"{name} must be a vector of real numbers; got {value!r}")
    if array.ndim != 1 or len(array) == 0 or (dim is not None and len(array) != dim):
        expected = f"of length {dim}" if dim is not None else "(non-empty, 1-D)"
        raise ValueError(f"{name} must be a vector {expected}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {array.tolist()!r}")
    return array


# ---------------------------------------------------------------------------------------------------- objects
#: Modules whose output at one point depends on the other points of the batch (in training mode at least).
_BATCH_COUPLING = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.instancenorm._InstanceNorm,
                   torch.nn.MultiheadAttention, torch.nn.Transformer, torch.nn.TransformerEncoderLayer,
                   torch.nn.TransformerDecoderLayer)


def check_pointwise_net(net: torch.nn.Module, x: torch.Tensor, name: str = "net") -> None:
    """Refuse ``net`` unless its output at each row of a batch depends on that row alone, as the derivatives of
    a PINN assume (a batch-coupled net, BatchNorm say, gives derivatives wrt a point that include its effect on
    the batch statistics: wrong).

    Two checks: no module of a batch-coupling type (BatchNorm*, InstanceNorm*, attention) in ``net.modules()``;
    and, with ``x`` (n >= 3 points of the domain), the outputs of the rows ``1 .. n-2`` of ``x[:-1]`` stay as
    they were when its row 0 is replaced by ``x[-1]``. The two evaluations run without gradients under the
    same forked torch random state (so dropout draws the same masks), which leaves torch's global random state
    as it was.
    """
    for module in net.modules():
        if isinstance(module, _BATCH_COUPLING):
            raise ValueError(f"{name} must be pointwise (each output row a function of its input row alone): it "
                             f"holds a {type(module).__name__}, which couples the rows of a batch, so the PDE "
                             f"derivatives would be wrong; remove it (LayerNorm over features is fine); got "
                             f"{type(net).__name__}")
    batch = x[:-1]
    moved = batch.clone()
    moved[0] = x[-1]
    outputs = []
    devices = [x.device] if x.device.type == "cuda" else []
    for points in (batch, moved):
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(0)
            outputs.append(net(points))
    if not all(isinstance(y, torch.Tensor) for y in outputs) or outputs[0].shape[:1] != batch.shape[:1]:
        return  # the caller's shape check says what is wrong
    a, b = outputs[0][1:], outputs[1][1:]
    tol = 1e-5 if x.dtype == torch.float64 else 1e-4
    if not torch.allclose(a, b, rtol=tol, atol=tol * (1 + float(a.abs().max()))):
        raise ValueError(f"{name} must be pointwise (each output row a function of its input row alone): moving "
                         f"one point of a batch changed the outputs at the others (by up to "
                         f"{float((a - b).abs().max()):.3g}), so the PDE derivatives would be wrong; got "
                         f"{type(net).__name__}")


def check_scheduler(scheduler, name: str = "scheduler"):
    """``scheduler`` (the result of a scheduler factory) if it is a learning-rate scheduler: it has callable
    ``step``, ``state_dict`` and ``load_state_dict`` and is not the optimizer itself; else ``TypeError``."""
    ok = not isinstance(scheduler, torch.optim.Optimizer) and all(
        callable(getattr(scheduler, attr, None)) for attr in ("step", "state_dict", "load_state_dict"))
    if not ok:
        raise TypeError(f"{name} must be a function optimizer -> LRScheduler (e.g. lambda opt: "
                        f"torch.optim.lr_scheduler.StepLR(opt, 1000)); it returned {type(scheduler).__name__}")
    return scheduler


def check_loss_weights(loss_weights: Mapping[str, float] | None, terms: Sequence[str]) -> dict[str, float]:
    """``{term: w_k}`` for every term (1 unless given); unknown names and non-finite or negative weights refused."""
    weights = {k: 1.0 for k in terms}
    if loss_weights is None:
        return weights
    if not isinstance(loss_weights, Mapping):
        raise ValueError(f"loss_weights must be a mapping term -> weight; got {type(loss_weights).__name__}")
    for key, value in loss_weights.items():
        if key not in weights:
            raise ValueError(f"loss_weights: unknown term {key!r}; the terms are {tuple(terms)}")
        weights[key] = check_non_negative_float(value, f"loss_weights[{key!r}]")
    return weights
