"""pinnkit.checks: every check normalises what it accepts and refuses the rest with the argument's name."""

import math
import re

import numpy as np
import pytest
import torch

from pinnkit import checks as C

NAN, INF = float("nan"), float("inf")


def refuses(check, value, name="arg", *args, expected=None, **kwargs):
    """``check(value, name, ...)`` raises ``ValueError`` whose message has the form ``"{name} must be ...; got"``
    (and ``expected`` if given)."""
    with pytest.raises(ValueError) as info:
        check(value, name, *args, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{name} must "), message
    assert "; got " in message, message
    if expected is not None:
        assert re.search(expected, message), message


# ---------------------------------------------------------------------------------------------------- integers
@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1), np.uint8(2)])
def test_positive_int_accepts_integers_and_numpy_integers(value):
    out = C.check_positive_int(value, "width")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [0, -1, True, False, np.bool_(True), 2.0, 1.5, NAN, INF, "3", None, [1]])
def test_positive_int_refuses(value):
    refuses(C.check_positive_int, value, "width", expected=r"^width must be a positive integer; got ")


@pytest.mark.parametrize("value", [0, 5, np.int64(0)])
def test_non_negative_int(value):
    out = C.check_non_negative_int(value, "steps")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [-1, True, 0.0, NAN, "0", None])
def test_non_negative_int_refuses(value):
    refuses(C.check_non_negative_int, value, "steps", expected="non-negative integer")


def test_int_with_bounds():
    assert C.check_int(np.int16(4), "grid", minimum=4) == 4 and type(C.check_int(4, "grid", minimum=4)) is int
    assert C.check_int(-3, "k") == -3
    assert C.check_int(10, "batch_size", minimum=1, maximum=10) == 10
    refuses(C.check_int, 3, "grid", minimum=4, expected=r"grid must be an integer >= 4; got 3$")
    refuses(C.check_int, 11, "batch_size", minimum=1, maximum=10, expected=r"an integer in \[1, 10\]; got 11$")
    refuses(C.check_int, 1, "k", maximum=0, expected="an integer <= 0")
    refuses(C.check_int, True, "k", expected=r"k must be an integer; got True")
    refuses(C.check_int, 2.0, "k", expected="an integer")


@pytest.mark.parametrize("value", [0, 12345, np.int64(2**40)])
def test_seed(value):
    assert C.check_seed(value) == int(value) and type(C.check_seed(value)) is int


@pytest.mark.parametrize("value", [-1, True, 1.0, NAN, "1", None])
def test_seed_refuses(value):
    refuses(C.check_seed, value, "seed", expected=r"seed must be a non-negative integer; got ")


def test_seed_may_be_none_where_allowed():
    assert C.check_seed(None, allow_none=True) is None
    assert C.check_seed(np.int8(3), "seed", allow_none=True) == 3
    refuses(C.check_seed, -2, "seed", allow_none=True, expected=r"a non-negative integer or None; got -2$")
    with pytest.raises(ValueError, match="^seed must be a non-negative integer; got True"):
        C.check_seed(True)  # the default name


# ---------------------------------------------------------------------------------------------------- reals
@pytest.mark.parametrize("value", [1, 0.5, 1e-300, np.float32(0.25), np.float64(3.0), np.int64(2)])
def test_positive_float_accepts_numbers_and_numpy_scalars(value):
    out = C.check_positive_float(value, "scale")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [0, 0.0, -1.0, True, False, np.bool_(True), NAN, INF, -INF, np.float64("nan"),
                                   "1.0", None, [1.0], torch.tensor(1.0), 1j])
def test_positive_float_refuses(value):
    refuses(C.check_positive_float, value, "scale", expected=r"^scale must be a positive finite number; got ")


@pytest.mark.parametrize("value", [0, 0.0, 2.5, np.float32(0.0)])
def test_non_negative_float(value):
    out = C.check_non_negative_float(value, "eps")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [-1e-12, True, NAN, INF, "0", None])
def test_non_negative_float_refuses(value):
    refuses(C.check_non_negative_float, value, "eps", expected="non-negative finite number")


@pytest.mark.parametrize("value", [-3, 0.0, 1e300, np.float64(-2.5)])
def test_finite_float(value):
    out = C.check_finite_float(value, "angle")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [NAN, INF, -INF, True, "1", None, 1 + 0j])
def test_finite_float_refuses(value):
    refuses(C.check_finite_float, value, "angle", expected=r"^angle must be a finite number; got ")


def test_lr_is_a_positive_finite_number():
    assert C.check_lr(1e-3) == 1e-3 and C.check_lr(np.float32(0.5)) == 0.5 and type(C.check_lr(1)) is float
    for value in (True, 0, -1e-3, NAN, INF, "1e-3"):
        refuses(C.check_lr, value, "lr", expected="lr must be a positive finite number")
    with pytest.raises(ValueError, match="^lr must be a positive finite number; got True$"):
        C.check_lr(True)  # the default name; refused everywhere, as in every other check


def test_probability_and_intervals():
    assert C.check_probability(0, "p") == 0.0 and C.check_probability(np.float32(1.0), "p") == 1.0
    assert type(C.check_probability(1, "p")) is float
    for value in (-0.1, 1.5, NAN, True, "0.5"):
        refuses(C.check_probability, value, "p", expected=r"p must be a number in \[0, 1\]; got ")
    assert C.check_open_unit_interval(1e-10, "tolerance") == 1e-10
    for value in (0, 1, 0.0, 1.0, NAN, INF, False):
        refuses(C.check_open_unit_interval, value, "tolerance", expected=r"a number in \(0, 1\); got ")
    assert C.check_in_interval(-1, "x", -1, 2, high_open=True) == -1.0
    refuses(C.check_in_interval, 2, "x", -1, 2, high_open=True, expected=r"a number in \[-1, 2\); got 2$")
    refuses(C.check_in_interval, -1, "x", -1, 2, low_open=True, expected=r"a number in \(-1, 2\]; got -1$")


def test_betas():
    assert C.check_betas((0.9, np.float64(0.999))) == (0.9, 0.999)
    assert C.check_betas([0, 0.5]) == (0.0, 0.5) and all(type(b) is float for b in C.check_betas([0, 0.5]))
    for value in ((0.9, 1.0), (-0.1, 0.9), (0.9,), (0.9, 0.9, 0.9), 0.9, (True, 0.9), (NAN, 0.9), "ab", None):
        refuses(C.check_betas, value, "betas", expected=r"a pair \(beta1, beta2\) of numbers in \[0, 1\)")


def test_weights():
    assert C.check_weights(None) is None
    assert C.check_weights([1, np.float32(0.5), 0]) == (1.0, 0.5, 0.0)
    refuses(C.check_weights, [], "weights", expected="None or a non-empty sequence")
    refuses(C.check_weights, "12", "weights", expected="None or a non-empty sequence")
    refuses(C.check_weights, 1.0, "weights", expected="None or a non-empty sequence")
    for value in ([1.0, -1.0], [1.0, NAN], [INF], [True, 1.0]):
        refuses(C.check_weights, value, "weights", expected="finite non-negative numbers")
    refuses(C.check_weights, [0, 0.0], "weights", expected="must not be all zero")


# ---------------------------------------------------------------------------------------------------- others
def test_bool():
    assert C.check_bool(True, "adjoint") is True and C.check_bool(np.bool_(False), "adjoint") is False
    for value in (0, 1, 1.0, "True", None, NAN):
        refuses(C.check_bool, value, "adjoint", expected=r"^adjoint must be True or False; got ")


def test_choice():
    choices = ("sobol", "uniform", "LHS")
    assert C.check_choice("sobol", "method", choices) == "sobol"
    assert C.check_choice(" Uniform ", "method", choices) == "uniform"
    assert C.check_choice("lhs", "method", choices) == "LHS"  # as spelled in the choices
    for value in ("grid", "", None, 1, True, ["sobol"]):
        refuses(C.check_choice, value, "method", choices,
                expected=r"^method must be one of \['sobol', 'uniform', 'LHS'\]; got ")


def test_dtype():
    assert C.check_dtype(torch.float64) is torch.float64 and C.check_dtype(torch.float32, "dtype") is torch.float32
    assert C.check_dtype("float64") is torch.float64 and C.check_dtype(" torch.float32") is torch.float32
    for value in (torch.float16, torch.bfloat16, "float16"):
        refuses(C.check_dtype, value, "dtype", expected="half precision")
    for value in (torch.int64, torch.bool, torch.complex64, "double", "int64", np.float64, float, None, True):
        refuses(C.check_dtype, value, "dtype", expected="a floating-point torch dtype")


def test_device():
    assert C.check_device("cpu") == torch.device("cpu") and isinstance(C.check_device("cpu"), torch.device)
    assert C.check_device(torch.device("cpu"), "device") == torch.device("cpu")
    for value in (0, True, None, 1.0, "gpu", "nonsense:3"):
        refuses(C.check_device, value, "device", expected="a torch.device or a string such as 'cpu' or 'cuda'")
    if not torch.cuda.is_available():
        for value in ("cuda", "cuda:0", torch.device("cuda", 1)):
            refuses(C.check_device, value, "device", expected="CUDA is not available here.*use 'cpu'")
    else:
        assert C.check_device("cuda").type == "cuda"
        refuses(C.check_device, f"cuda:{torch.cuda.device_count()}", "device", expected="CUDA device")


def test_array():
    out = C.check_array([[1, 2], [3, 4], [5, 6]], "points", ("N", 2))
    assert out.dtype == np.float64 and out.shape == (3, 2)
    source = np.zeros((2, 3), dtype=np.float32)
    copy = C.check_array(source, "values", ("N", "d"))
    copy[0, 0] = 1.0
    assert source[0, 0] == 0 and copy.dtype == np.float64  # a new array
    assert C.check_array(torch.ones(4, dtype=torch.float64, requires_grad=True), "v", (4,)).tolist() == [1.0] * 4
    assert C.check_array(np.float32(2.0), "x").shape == ()
    refuses(C.check_array, [[1, 2, 3]], "points", ("N", 2), expected=r"points must have shape \(N, 2\); got shape "
                                                                     r"\(1, 3\)")
    refuses(C.check_array, [1.0, 2.0], "points", ("N", "d"), expected=r"shape \(N, d\); got shape \(2,\)")
    refuses(C.check_array, [1.0, 2.0], "v", (3,), expected=r"shape \(3,\); got shape \(2,\)")
    refuses(C.check_array, [[0.0, NAN]], "points", ("N", 2), expected=r"points must be finite; got \[\[0.0, nan\]\]")
    refuses(C.check_array, [INF], "points", expected="must be finite")
    refuses(C.check_array, "box", "points", expected=r"an array of real numbers; got 'box'")
    refuses(C.check_array, [[1], [1, 2]], "points", expected="an array of real numbers")
    refuses(C.check_array, np.array([1 + 1j]), "points", expected="an array of real numbers")


def test_vector():
    v = C.check_vector([0, np.float32(1.5)], "center", 2)
    assert v.dtype == np.float64 and v.tolist() == [0.0, 1.5]
    assert C.check_vector(torch.tensor([1.0, 2.0, 3.0]), "xmin").tolist() == [1.0, 2.0, 3.0]
    refuses(C.check_vector, [0, 0, 0], "center", 2, expected=r"center must be a vector of length 2; got shape \(3,\)")
    refuses(C.check_vector, [], "xmin", expected=r"xmin must be a vector \(non-empty, 1-D\); got shape \(0,\)")
    refuses(C.check_vector, [[0, 1]], "xmin", expected=r"xmin must be a vector \(non-empty, 1-D\)")
    refuses(C.check_vector, ["a", "b"], "xmin", expected="xmin must be a vector of real numbers; got")
    refuses(C.check_vector, np.array([1 + 2j, 0]), "xmin", expected="xmin must be a vector of real numbers")
    refuses(C.check_vector, "12", "xmin", expected="xmin must be a vector of real numbers")
    refuses(C.check_vector, [0.0, math.inf], "xmax", expected=r"xmax must be finite; got \[0.0, inf\]")


def test_constructors_refuse_bools_alike():
    """The same value is refused the same way wherever it goes: bool is not a number in any constructor."""
    import pinnkit as pk

    cases = [
        (lambda: pk.optim.MultiAdam([torch.nn.Parameter(torch.zeros(1))], lr=True), "lr must be a positive finite"),
        (lambda: pk.nets.FourierFeatures(2, 4, scale=True), "scale must be a positive finite"),
        (lambda: pk.geometry.Disk([0, 0], True), "radius must be a positive finite"),
        (lambda: pk.sampling.R3(threshold_scale=True), "threshold_scale must be a positive finite"),
        (lambda: pk.dynamics.NeuralODE(lambda t, u: u, rtol=True), "rtol must be a positive finite"),
        (lambda: pk.nets.MLP(True, 1), "inputs must be a positive integer"),
        (lambda: pk.pde.MeanValue(times=True), "times must be a positive integer"),
        (lambda: pk.PeriodicBC("x", orders=(True,)), r"orders\[0\] must be a non-negative integer"),
        (lambda: pk.nets.DeepONet([3, 4, 2], [1, 4, 2], trunk_activation_last=1), "must be True or False; got 1"),
        (lambda: pk.geometry.Interval(0, 1).sample_interior(4, seed=True), "seed must be a non-negative integer, a "
                                                                            "numpy or torch Generator, or None"),
        (lambda: pk.geometry.Interval(0, 1).sample_interior(4, seed=-1), "seed must be .*; got -1"),
    ]
    for make, match in cases:
        with pytest.raises(ValueError, match=match):
            make()
