"""Issue 16 item 5: every argument is checked at construction, with a message naming the argument.

One test (parametrised) per case: dtype and device strings, half precision, non-numeric or non-finite condition
values / PDE parameters / loss weights, learning rates, thresholds, a scheduler factory that returns no
scheduler, a residual that returns no term, a network that is not pointwise, an operator network given to the
PINN trainer, and bad CLI values (``parser.error``).
"""

import argparse
import math

import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.geometry import Interval
from pinnkit.pde import DirichletBC, InitialCondition
from pinnkit.sampling import R3, RAD, RARD, CausalR3


def problem(**kw) -> pk.Problem:
    return pk.Problem(Interval(0, 1), lambda f: f.d("u", "x", "x") + f.u, "u", [DirichletBC(n=2)], **kw)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))


# ---------------------------------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("given, expected", [("float32", torch.float32), ("float64", torch.float64),
                                             (" Float64 ", torch.float64), ("torch.float64", torch.float64)])
def test_dtype_string_is_normalised(given, expected):
    trainer = pk.Trainer(problem(), mlp(), dtype=given)
    assert trainer.dtype is expected and next(trainer.net.parameters()).dtype is expected


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, "float16", "bfloat16"])
def test_half_precision_is_refused_saying_why(dtype):
    with pytest.raises(ValueError, match=r"dtype must be torch.float32 or torch.float64.*half precision"):
        pk.Trainer(problem(), mlp(), dtype=dtype)


@pytest.mark.parametrize("dtype", ["float", "int64", "float128"])
def test_unknown_dtype_string_is_refused(dtype):
    with pytest.raises(ValueError, match=r"^dtype must be .*'float32'.*; got"):
        pk.Trainer(problem(), mlp(), dtype=dtype)


# ---------------------------------------------------------------------------------------------------- device
def test_device_gpu_is_refused_with_a_hint():
    with pytest.raises(ValueError, match=r"^device must be .*use 'cuda'.*; got 'gpu'"):
        pk.Trainer(problem(), mlp(), device="gpu")


@pytest.mark.skipif(torch.cuda.is_available() and torch.backends.mps.is_available(), reason="both present")
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_absent_accelerator_is_refused_at_construction(device):
    if device == "cuda" and torch.cuda.is_available() or device == "mps" and torch.backends.mps.is_available():
        pytest.skip(f"{device} is present")
    with pytest.raises(ValueError, match=r"^device must be a device this machine has"):
        pk.Trainer(problem(), mlp(), device=device)


# ---------------------------------------------------------------------------------------------------- values
@pytest.mark.parametrize("make", [lambda v: DirichletBC(value=v, n=2), lambda v: pk.pde.NeumannBC(value=v, n=2),
                                  lambda v: pk.pde.RobinBC(alpha=v, n=2)])
@pytest.mark.parametrize("value", ["a", None, math.nan, math.inf, [1.0, "x"]])
def test_non_numeric_or_non_finite_condition_value_is_refused(make, value):
    with pytest.raises(ValueError, match=r"(value|alpha) must be"):
        make(value)


def test_initial_condition_value_is_checked():
    with pytest.raises(ValueError, match=r"InitialCondition: value must be"):
        InitialCondition(value=math.nan)


@pytest.mark.parametrize("value", ["x", None, True, math.nan, math.inf, [1.0, 2.0]])
def test_bad_pde_parameter_is_refused_naming_it(value):
    with pytest.raises(ValueError, match=r"^parameters\['a'\] must be a finite number"):
        problem(parameters={"a": value})


def test_pde_parameter_accepts_a_scalar_tensor():
    assert float(problem(parameters={"a": torch.tensor(0.5)}).parameters["a"]) == 0.5


@pytest.mark.parametrize("value", ["x", None, True, -1.0, math.nan, math.inf])
def test_bad_loss_weight_is_refused_naming_it(value):
    with pytest.raises(ValueError, match=r"^loss_weights\['pde'\] must be a non-negative finite number"):
        pk.Trainer(problem(), mlp(), loss_weights={"pde": value})


@pytest.mark.parametrize("lr", [True, math.inf, math.nan, 0, -1e-3, "1e-3"])
def test_bad_lr_is_refused(lr):
    with pytest.raises(ValueError, match=r"^lr must be a positive finite number"):
        pk.Trainer(problem(), mlp(), lr=lr)


@pytest.mark.parametrize("weights", [(1.0, -1.0), (1.0, math.inf), (math.nan,), ("a",)])
def test_bad_multiadam_weights_are_refused(weights):
    with pytest.raises(ValueError, match=r"^weights must be"):
        pk.Trainer(problem(), mlp(), optimizer="multiadam", optimizer_options={"weights": weights})


@pytest.mark.parametrize("make, name", [(lambda: R3(threshold_scale=math.inf), "threshold_scale"),
                                        (lambda: CausalR3(threshold_scale=math.inf), "threshold_scale"),
                                        (lambda: RAD(c=math.inf), "c"), (lambda: RAD(k=math.inf), "k"),
                                        (lambda: RARD(c=math.nan), "c"), (lambda: RAD(c=-1), "c")])
def test_infinite_thresholds_and_density_constants_are_refused(make, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a (positive|non-negative) finite number"):
        make()


# ---------------------------------------------------------------------------------------------------- callables
@pytest.mark.parametrize("factory", [lambda opt: None, lambda opt: 3, lambda opt: opt])
def test_scheduler_factory_must_return_a_scheduler(factory):
    with pytest.raises(TypeError, match=r"^scheduler must be a function optimizer -> LRScheduler.*returned"):
        pk.Trainer(problem(), mlp(), scheduler=factory)


def test_scheduler_factory_returning_a_scheduler_is_accepted():
    trainer = pk.Trainer(problem(), mlp(), scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10))
    assert isinstance(trainer.scheduler, torch.optim.lr_scheduler.StepLR)


@pytest.mark.parametrize("out", [None, [], {}, (), 3.0])
def test_residual_returning_no_term_is_refused_naming_it(out):
    with pytest.raises(ValueError, match=r"^residual must return"):
        pk.Problem(Interval(0, 1), lambda f: out, "u")


# ---------------------------------------------------------------------------------------------------- networks
class BatchMean(nn.Module):
    """Couples the rows of the batch through their mean (as BatchNorm does): not pointwise."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x) + x.mean(0, keepdim=True)


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(1, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1)),
    lambda: nn.Sequential(nn.Linear(1, 8), nn.InstanceNorm1d(8), nn.Tanh(), nn.Linear(8, 1)),
    BatchMean])
def test_network_that_is_not_pointwise_is_refused(make):
    with pytest.raises(ValueError, match=r"^net must be pointwise"):
        pk.Trainer(problem(), make())


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(1, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 1)),  # per row: pointwise
    lambda: nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Dropout(0.1), nn.Linear(8, 1)),  # random, per row
    lambda: pk.nets.MLP(1, 1, width=8, depth=2)])
def test_pointwise_networks_are_accepted_and_the_check_leaves_torch_rng_alone(make):
    net = make()
    pk.Trainer(problem(), net)
    x = torch.rand(5, 1)
    state = torch.get_rng_state()
    pk.checks.check_pointwise_net(net, x)  # dropout draws its masks under a forked random state
    assert torch.equal(state, torch.get_rng_state())


def test_deeponet_given_to_the_pinn_trainer_points_at_operator_trainer():
    net = pk.nets.DeepONet([4, 8, 8], [1, 8, 8])
    with pytest.raises(TypeError, match=r"^net must .*OperatorTrainer"):
        pk.Trainer(problem(), net)


# ---------------------------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("argv, expected", [(["--device", "gpu"], "--device gpu: device must"),
                                            (["--lr", "inf"], "--lr must be a positive finite number"),
                                            (["--steps", "-1"], "--steps must be >= 0")])
def test_bad_cli_values_are_parser_errors(argv, expected, capsys):
    parser = argparse.ArgumentParser(prog="problem")
    pk.cli.add_common_options(parser, ("steps", "lr", "device"), {"adam": 10}, keys={"steps": "adam"})
    with pytest.raises(SystemExit):
        pk.cli.resolve_options(parser, parser.parse_args(argv), {"adam": 10, "lr": 1e-3}, {},
                               keys={"steps": "adam"}, positive_finite=("lr",))
    assert expected in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------- time-marching
def space_time_problem() -> pk.Problem:
    domain = Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, lambda f: f.d("u", "t") + f.d("u", "x"), "u", [InitialCondition(value=0.0, n=4)])


@pytest.mark.parametrize("options, error, match", [
    ({"dtype": "float16"}, ValueError, r"^dtype must be torch.float32 or torch.float64"),
    ({"device": "gpu"}, ValueError, r"^device must be .*use 'cuda'"),
    ({"lr": math.inf}, ValueError, r"^lr must be a positive finite number"),
    ({"loss_weights": {"pde": math.nan}}, ValueError, r"^loss_weights\['pde'\] must be"),
    ({"lrr": 1e-3}, TypeError, r"unknown trainer options \['lrr'\]"),
    ({"compile": True}, TypeError, r"unknown trainer options \['compile'\]")])  # not a Trainer keyword
def test_time_marching_checks_the_trainer_options_at_construction(options, error, match):
    with pytest.raises(error, match=match):
        pk.TimeMarching(space_time_problem(), pk.nets.MLP(2, 1, width=8, depth=2), 2, **options)


def test_time_marching_normalises_the_dtype_string():
    run = pk.TimeMarching(space_time_problem(), pk.nets.MLP(2, 1, width=8, depth=2), 2, dtype="float64")
    assert run.trainer_options["dtype"] is torch.float64


# ---------------------------------------------------------------------------------------------------- battery cases
# Cases of the independent bad-input battery that main accepted or refused only after training had started.
def test_lr_and_period_are_checked_by_resolve_options_itself(capsys):
    parser = argparse.ArgumentParser(prog="problem")
    pk.cli.add_common_options(parser, ("lr",), {})
    parser.add_argument("--period", type=int)
    for argv, expected in ((["--lr", "0"], "--lr must be a positive finite number"),
                           (["--lr", "nan"], "--lr must be a positive finite number"),
                           (["--period", "0"], "--period must be >= 1")):
        with pytest.raises(SystemExit):
            pk.cli.resolve_options(parser, parser.parse_args(argv), {"lr": 1e-3, "period": 5}, {})
        assert expected in capsys.readouterr().err


@pytest.mark.parametrize("outputs", [None, 0, ["u", "u"], ["u", 1], "", ["1u"]])
def test_outputs_must_be_distinct_names(outputs):
    with pytest.raises(ValueError, match="outputs must be a name or a sequence of distinct names"):
        pk.Problem(Interval(0, 1), lambda f: f.u, outputs=outputs)


@pytest.mark.parametrize("parameters, match", [([("a", 1.0)], "parameters must be a mapping"),
                                               ({"a b": 1.0}, "parameters: names must be identifiers")])
def test_parameters_must_be_a_mapping_of_names(parameters, match):
    with pytest.raises(ValueError, match=match):
        problem(parameters=parameters)


def test_a_callable_condition_value_must_be_finite():
    with pytest.raises(ValueError, match="DirichletBC: value is not finite at 2 of its 2 points"):
        problem_with = pk.Problem(Interval(0, 1), lambda f: f.u, "u",
                                  [DirichletBC(value=lambda x: torch.log(x[:, 0] - 5.0), n=2)])
        del problem_with


def test_a_reference_must_be_finite():
    with pytest.raises(ValueError, match="reference: its points and values must be finite"):
        pk.Trainer(problem(), mlp(), reference=([[0.5]], [[math.nan]]))


@pytest.mark.parametrize("kwargs, match", [({"patience": math.inf}, "patience"), ({"min_delta": math.nan}, "min_delta"),
                                           ({"min_delta": math.inf}, "min_delta"), ({"monitor": 3}, "monitor")])
def test_early_stopping_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pk.EarlyStopping(**kwargs)


def test_early_stopping_refuses_an_unknown_monitor_before_any_step():
    trainer = pk.Trainer(problem(), mlp())
    with pytest.raises(ValueError, match="monitor='bogus' is not in the history; its entries are"):
        trainer.fit(5, progress=False, callbacks=[pk.EarlyStopping(monitor="bogus")])
    assert trainer.step == 0


@pytest.mark.parametrize("path", [5, ""])
def test_checkpoint_path_must_be_a_path(path):
    with pytest.raises(ValueError, match="path must be a file path"):
        pk.Checkpoint(path)


def test_a_network_with_nothing_to_train_is_refused():
    net = mlp().requires_grad_(False)
    with pytest.raises(ValueError, match="nothing to train: no parameter of the network"):
        pk.Trainer(problem(), net)


def test_frozen_layers_stay_as_they_are():
    net = mlp()
    net[0].requires_grad_(False)
    before = net[0].weight.detach().clone()
    trainer = pk.Trainer(problem(), net, lr=1e-2)
    trainer.fit(3, progress=False)
    assert torch.equal(net[0].weight.detach(), before)


def test_an_operator_problem_given_to_the_pinn_trainer_points_at_operator_trainer():
    space = pk.functions.ChebyshevSeries(4)
    operator_problem = pk.OperatorProblem(Interval(0, 1), lambda f: f.u_x - f.v, space, [0.0, 0.5, 1.0],
                                          outputs="u", input="v")
    with pytest.raises(TypeError, match="problem is an OperatorProblem.*OperatorTrainer"):
        pk.Trainer(operator_problem, mlp())


def test_resample_names_every_in_its_message():
    with pytest.raises(ValueError, match="^every must be"):
        pk.sampling.Resample(10, every=0)


def test_a_sample_of_more_than_max_count_points_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 1073741824\]"):
        Interval(0, 1).sample_interior(10**12)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 1073741824\]"):
        pk.sampling.FixedPoints(10**11)


def test_a_trainer_in_float32_gets_distinct_points_or_a_clear_refusal():
    trainer = pk.Trainer(problem(), mlp(), sampler=pk.sampling.FixedPoints(50_000, "random"))
    points = trainer.sampler.points(0)
    assert points.dtype == torch.float32 and len(torch.unique(points, dim=0)) == 50_000
    far = pk.Problem(Interval(1e6, 1e6 + 1), lambda f: f.d("u", "x", "x"), "u", [DirichletBC(n=2)])
    with pytest.raises(ValueError, match="in torch.float32 cannot be 500 distinct points"):
        pk.Trainer(far, mlp(), sampler=pk.sampling.FixedPoints(500))
