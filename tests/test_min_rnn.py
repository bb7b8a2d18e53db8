"""minGRU and minLSTM: the scan equals the loop (values and gradients), the equations hold, errors are clear."""

import math

import pytest
import torch

import snippets
from snippets.errors import RNNInputError
from snippets.min_rnn import MinGRU, MinLSTM, g, log_g, min_gru_step, min_lstm_step, normalised_gates


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds hand-offs, which a busy machine makes slow."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


BATCH, INPUT, HIDDEN = 2, 3, 8
LENGTHS = (1, 2, 17, 512, 4096)
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}
MODULES = [MinGRU, MinLSTM]


def make(cls, dtype=torch.float64, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(INPUT, HIDDEN, dtype=dtype, **kwargs)


def inputs(steps, dtype=torch.float64, seed=1):
    """Input (T, B, I) and an h0 with entries of both signs, as leaves."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(steps, BATCH, INPUT, generator=gen, dtype=dtype)
    h0 = 2 * torch.randn(BATCH, HIDDEN, generator=gen, dtype=dtype)
    assert (h0 < 0).any() and (h0 > 0).any()
    return x.requires_grad_(), h0.requires_grad_()


def run(module, x, h0, mode):
    """Output, h_n and the gradients of a random projection of both wrt x, h0 and every parameter."""
    output, h_n = module(x, h0, mode=mode)
    gen = torch.Generator().manual_seed(2)
    weights = torch.randn(output.shape, generator=gen, dtype=torch.float64).to(x.dtype)  # same draw in any dtype
    loss = (weights * output).mean() + h_n.sum()
    leaves = [x, h0, *module.parameters()]
    return output, h_n, torch.autograd.grad(loss, leaves)


def max_error(actual, expected) -> float:
    return float((actual.detach() - expected.detach()).abs().max())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("steps", LENGTHS)
@pytest.mark.parametrize("cls", MODULES)
def test_scan_equals_loop(cls, steps, dtype):
    module = make(cls, dtype)
    x, h0 = inputs(steps, dtype)
    out_scan, h_scan, grads_scan = run(module, x, h0, "scan")
    out_loop, h_loop, grads_loop = run(module, x, h0, "loop")
    tol = TOLERANCE[dtype]
    assert max_error(out_scan, out_loop) <= tol
    assert max_error(h_scan, h_loop) <= tol
    names = ["input", "h0", *(name for name, _ in module.named_parameters())]
    assert len(names) == 2 + 2 * len(cls.gates)
    for name, grad_scan, grad_loop in zip(names, grads_scan, grads_loop):
        assert max_error(grad_scan, grad_loop) <= tol, f"gradient of {name}"


@pytest.mark.parametrize("cls", MODULES)
@pytest.mark.parametrize("mode", ["scan", "loop"])
def test_gradcheck(cls, mode):
    # Small, but 11 steps: the scan crosses a chunk boundary (chunks of 8).
    torch.manual_seed(0)
    module = cls(2, 3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(11, 2, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    params = tuple(module.parameters())

    def f(x, h0, *weights):
        state = dict(zip((name for name, _ in module.named_parameters()), weights))
        return torch.func.functional_call(module, state, (x, h0), dict(mode=mode))

    assert torch.autograd.gradcheck(f, (x, h0, *params), fast_mode=True)


def test_min_gru_step_is_the_paper_equations():
    gen = torch.Generator().manual_seed(3)
    xw_z, xw_h, h = torch.randn(3, 4, 5, generator=gen, dtype=torch.float64)
    new_h, (z, h_tilde) = min_gru_step(xw_z, xw_h, h)
    assert torch.allclose(z, 1 / (1 + torch.exp(-xw_z)))
    assert torch.allclose(h_tilde, torch.where(xw_h >= 0, xw_h + 0.5, torch.sigmoid(xw_h)))
    # h_t moves from h_{t-1} towards the candidate by the fraction z_t.
    assert torch.allclose(new_h - h, z * (h_tilde - h))


def test_min_lstm_gates_are_normalised():
    gen = torch.Generator().manual_seed(4)
    xw_f, xw_i, xw_h, h = torch.randn(4, 4, 5, generator=gen, dtype=torch.float64)
    new_h, (f, i, h_tilde) = min_lstm_step(xw_f, xw_i, xw_h, h)
    assert torch.allclose(f + i, torch.ones_like(f))
    assert torch.allclose(f / i, torch.sigmoid(xw_f) / torch.sigmoid(xw_i))
    assert torch.allclose(new_h, f * h + i * h_tilde)


def test_candidate_activation_is_positive_continuous_and_its_log_is_exact():
    x = torch.linspace(-200, 200, 40_001, dtype=torch.float64)
    assert (g(x) > 0).all()
    assert float(g(torch.tensor(-1e-12, dtype=torch.float64))) == pytest.approx(0.5)
    assert torch.allclose(log_g(x), torch.log(g(x)), rtol=1e-12, atol=0)
    assert float(log_g(torch.tensor(-200.0))) == pytest.approx(-200.0)  # no log(0) where sigmoid underflows


@pytest.mark.parametrize("cls", MODULES)
def test_traces_follow_the_recurrence(cls):
    module = make(cls)
    x, h0 = inputs(9)
    output, _, traces = module(x, h0, return_gates=True)
    assert list(traces) == list(cls.trace_names)
    assert all(v.shape == (9, BATCH, HIDDEN) for v in traces.values())
    h_prev = torch.cat([h0.unsqueeze(0), traces["h"][:-1]])
    if cls is MinGRU:
        expected = (1 - traces["z"]) * h_prev + traces["z"] * traces["h_tilde"]
    else:
        expected = traces["f"] * h_prev + traces["i"] * traces["h_tilde"]
    torch.testing.assert_close(traces["h"], expected)
    torch.testing.assert_close(traces["h"], output)
    _, _, loop_traces = module(x, h0, mode="loop", return_gates=True)
    for name in cls.trace_names:
        torch.testing.assert_close(traces[name], loop_traces[name])


@pytest.mark.parametrize("cls", MODULES)
def test_layouts_batch_first_unbatched_and_default_h0(cls):
    module = make(cls)
    x, h0 = (v.detach() for v in inputs(6))
    output, h_n = module(x, h0)
    first = make(cls, batch_first=True)
    out_bf, h_bf = first(x.transpose(0, 1), h0)
    torch.testing.assert_close(out_bf, output.transpose(0, 1))
    torch.testing.assert_close(h_bf, h_n)
    out_one, h_one, traces = module(x[:, 1], h0[1], return_gates=True)
    torch.testing.assert_close(out_one, output[:, 1])
    torch.testing.assert_close(h_one, h_n[1])
    assert traces["h"].shape == (6, 1, HIDDEN)
    torch.testing.assert_close(module(x)[0], module(x, torch.zeros_like(h0))[0])
    torch.testing.assert_close(h_n, output[-1])


@pytest.mark.parametrize("d", [4, 16])
def test_parameter_counts(d):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(MinGRU(d, d)) == 2 * d * d + 2 * d
    assert count(MinLSTM(d, d)) == 3 * d * d + 3 * d
    assert count(snippets.GRU(d, d)) == 6 * d * d + 6 * d
    assert count(MinGRU(d, d, bias=False)) == 2 * d * d
    assert [name for name, _ in MinGRU(d, d).named_parameters()] == [
        "linear_z.weight",
        "linear_z.bias",
        "linear_h.weight",
        "linear_h.bias",
    ]


def test_float32_module_matches_float64_over_4096_steps():
    module = make(MinGRU)
    x, h0 = (v.detach() for v in inputs(4096))
    exact, _ = module(x, h0, mode="loop")
    approx, _ = module.float()(x.float(), h0.float())
    assert max_error(approx.double(), exact) < 1e-5


BAD_INPUTS = {
    "1-D input": (lambda m: m(torch.zeros(INPUT)), r"expected MinGRU input to be 2-D or 3-D, got 1-D"),
    "input size": (lambda m: m(torch.zeros(5, BATCH, 4)), r"size 3 in its last dimension, got 4"),
    "input dtype": (
        lambda m: m(torch.zeros(5, BATCH, INPUT, dtype=torch.float64)),
        r"dtype torch.float32, got torch.float64",
    ),
    "empty sequence": (lambda m: m(torch.zeros(0, BATCH, INPUT)), r"at least one time step"),
    "h0 with a layer dim": (
        lambda m: m(torch.zeros(5, BATCH, INPUT), torch.zeros(1, BATCH, HIDDEN)),
        r"h0 for batched 3-D input to be 2-D, got 3-D of shape \(1, 2, 8\)",
    ),
    "h0 batch": (
        lambda m: m(torch.zeros(5, BATCH, INPUT), torch.zeros(3, HIDDEN)),
        r"expected h0 of shape \(2, 8\) for batched 3-D input, got \(3, 8\)",
    ),
    "h0 unbatched": (
        lambda m: m(torch.zeros(5, INPUT), torch.zeros(1, HIDDEN)),
        r"h0 for unbatched 2-D input to be 1-D, got 2-D",
    ),
    "h0 dtype": (
        lambda m: m(torch.zeros(5, BATCH, INPUT), torch.zeros(BATCH, HIDDEN, dtype=torch.float64)),
        r"h0 of dtype torch.float32, got torch.float64",
    ),
    "mode": (lambda m: m(torch.zeros(5, BATCH, INPUT), mode="parallel"), r"mode 'scan' or 'loop', got 'parallel'"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_says_what_was_expected_and_what_came(case):
    call, message = BAD_INPUTS[case]
    with pytest.raises(RNNInputError, match=message):
        call(MinGRU(INPUT, HIDDEN))


def test_bad_sizes():
    with pytest.raises(ValueError, match="expected hidden_size >= 1, got 0"):
        MinLSTM(INPUT, 0)
    with pytest.raises(TypeError, match="expected input_size to be an int, got float 3.0"):
        MinGRU(3.0, HIDDEN)


def test_scan_is_not_fooled_by_a_negative_h0_where_logging_h0_would_be():
    # Public log-space code takes log(h0): NaN for h0 < 0. Here h0 = -1 decays towards the candidates.
    module = make(MinGRU)
    x = torch.zeros(3, 1, INPUT, dtype=torch.float64)
    h0 = torch.full((1, HIDDEN), -1.0, dtype=torch.float64)
    output, _ = module(x, h0)
    z, h_tilde = torch.sigmoid(module.linear_z.bias), g(module.linear_h.bias)
    expected = (1 - z) ** 3 * -1 + (1 - (1 - z) ** 3) * h_tilde
    torch.testing.assert_close(output[-1, 0], expected)
    assert math.isfinite(float(output.detach().sum()))


# -- where the gates saturate ----------------------------------------------------------------------


def plain_quotient(xw_f, xw_i):
    """minLSTM's gates as first written, f / (f + i): the reference where f + i is a normal float."""
    f, i = torch.sigmoid(xw_f), torch.sigmoid(xw_i)
    return f / (f + i), i / (f + i)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normalised_gates_are_the_plain_quotient_bit_for_bit_where_it_is_exact(dtype):
    """Values and gradients, so trained minLSTMs (and the pages' numbers) do not move."""
    gen = torch.Generator().manual_seed(6)
    xw_f, xw_i = (8 * torch.randn(400, generator=gen, dtype=dtype) for _ in range(2))
    weights = torch.randn(2, 400, generator=gen, dtype=dtype)
    results = []
    for gates in (normalised_gates, plain_quotient):
        leaves = [xw_f.clone().requires_grad_(), xw_i.clone().requires_grad_()]
        f, i = gates(*leaves)
        results.append([f, i, *torch.autograd.grad((weights[0] * f + weights[1] * i).sum(), leaves)])
    for new, old in zip(*results, strict=True):
        assert torch.equal(new, old)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normalised_gates_have_their_limit_where_both_gates_underflow(dtype):
    """f' = sigma(log f - log i): with a_f = a_i - 3 far below zero, f / i -> e^-3, so f' -> 1 / (1 + e^3)."""
    xw_i = torch.tensor([-30.0, -90.0, -200.0, -1000.0, -1e5], dtype=dtype, requires_grad=True)
    f, i = normalised_gates(xw_i - 3, xw_i)
    limit = torch.full_like(f, 1 / (1 + math.exp(3)))
    torch.testing.assert_close(f, limit, rtol=1e-6, atol=0)
    torch.testing.assert_close(f + i, torch.ones_like(f))
    assert torch.isnan(plain_quotient(xw_i[-1:] - 3, xw_i[-1:])[0]).all()  # what the plain quotient gives
    (grad,) = torch.autograd.grad(f.sum(), xw_i)
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_min_lstm_loop_traces_and_scan_agree_on_large_negative_pre_activations(dtype):
    """The probe's case: mode="loop" and the traces gave NaN where mode="scan" gave the limit."""
    module = make(MinLSTM, dtype)
    with torch.no_grad():
        for linear in (module.linear_f, module.linear_i):
            linear.bias.fill_(-150.0 if dtype == torch.float32 else -2000.0)  # both gates underflow to 0
    x, h0 = inputs(12, dtype)
    out_scan, _, traces = module(x, h0, mode="scan", return_gates=True)
    out_loop, _ = module(x, h0, mode="loop")
    assert torch.isfinite(out_loop).all() and all(torch.isfinite(v).all() for v in traces.values())
    # Pre-activations near -150 are resolved to 1e-5 in float32: both modes round their difference.
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(out_loop, out_scan, rtol=tol, atol=tol)
    torch.testing.assert_close(traces["h"], out_loop, rtol=tol, atol=tol)
    grads = torch.autograd.grad(out_loop.sum(), [x, h0, *module.parameters()])
    assert all(torch.isfinite(grad).all() for grad in grads)


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_min_gru_float32_scan_on_large_inputs_stays_within_its_bound(scale):
    """Gates with pre-activations in the thousands used to cost the scan |log a| x 1e-7 of relative
    precision (0.4 off at |h| = 4.6e3); with log a floored at log eps it stays within 1e-5 of the
    largest |h| (`snippets.scan`), against the float64 loop."""
    module = make(MinGRU, torch.float64)
    x = scale * inputs(256)[0].detach()
    exact, _ = module(x, mode="loop")
    approx, _ = module.float()(x.float())
    worst = float(exact.abs().max())
    assert max_error(approx.double(), exact) <= 1e-5 * worst
    loop, _ = module(x.float(), mode="loop")
    assert max_error(loop.double(), exact) <= 5e-6 * worst  # the loop, for comparison
