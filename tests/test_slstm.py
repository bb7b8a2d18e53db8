"""sLSTM: the stabilised form computes the plain equations, and survives where they overflow."""

import math

import pytest
import torch

from snippets.errors import RNNInputError
from snippets.slstm import SLSTM, slstm_loop, slstm_step


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds hand-offs, which a busy machine makes slow."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


BATCH, INPUT, HIDDEN = 3, 4, 5
FORGET_GATES = ["sigmoid", "exp"]


def sequence(steps=12, dtype=torch.float64, scale=2.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(steps, BATCH, INPUT, generator=gen, dtype=torch.float64).to(dtype)


def max_error(actual, expected) -> float:
    return float((actual.detach() - expected.detach()).abs().max())


def fresh_state(batch, hidden, dtype):
    zeros = torch.zeros(batch, hidden, dtype=dtype)
    return zeros, zeros, zeros, torch.full_like(zeros, -math.inf)


@pytest.mark.parametrize("forget_gate", FORGET_GATES)
def test_stabilised_equals_the_plain_equations_in_float64(forget_gate):
    torch.manual_seed(0)
    module = SLSTM(INPUT, HIDDEN, forget_gate=forget_gate, dtype=torch.float64)
    x = sequence()
    output, state, traces = module(x, return_gates=True)
    module.stabilise = False
    plain_output, plain_state = module(x)
    assert max_error(output, plain_output) <= 1e-12
    _, c, n, m = state
    assert max_error(c * m.exp() / plain_state[2], plain_state[1] / plain_state[2]) <= 1e-12
    assert max_error(n * m.exp() / plain_state[2], torch.ones_like(n)) <= 1e-12
    # One of the two rescaled exponents is always 0, so that gate is exactly 1 and n_t >= 1.
    assert torch.equal(torch.maximum(traces["i"], traces["f"]), torch.ones_like(traces["i"]))
    assert (traces["n"] >= 1).all()


@pytest.mark.parametrize("forget_gate", FORGET_GATES)
def test_float32_stabilised_matches_the_float64_plain_reference(forget_gate):
    torch.manual_seed(1)
    reference = SLSTM(INPUT, HIDDEN, forget_gate=forget_gate, stabilise=False, dtype=torch.float64)
    module = SLSTM(INPUT, HIDDEN, forget_gate=forget_gate, dtype=torch.float32)
    module.load_state_dict(reference.state_dict())
    x = sequence(steps=50)
    expected, _ = reference(x)
    output, _ = module(x.float())
    assert torch.isfinite(expected).all()
    assert max_error(output.double(), expected) <= 1e-6


@pytest.mark.parametrize("forget_gate", FORGET_GATES)
def test_pre_activations_of_100_overflow_the_plain_form_but_not_the_stabilised_one(forget_gate):
    # 10,000 short sequences, every pre-activation drawn from [-100, 100] (plus R h, |h| < 1).
    sequences, steps, hidden = 10_000, 6, 4
    gen = torch.Generator().manual_seed(2)
    xw = torch.rand(steps, sequences, 4 * hidden, generator=gen) * 200 - 100
    weight_hh = torch.rand(4 * hidden, hidden, generator=gen) - 0.5

    def run(dtype, stabilised):
        state = fresh_state(sequences, hidden, dtype)
        return slstm_loop(xw.to(dtype), state, weight_hh.to(dtype), forget_gate, stabilised)[0]

    def finite(output):  # one flag per sequence
        return torch.isfinite(output).all(0).all(-1)

    stable32, plain32, reference = run(torch.float32, True), run(torch.float32, False), run(torch.float64, False)
    assert finite(stable32).all()
    assert (~finite(plain32)).float().mean() > 0.5  # exp(100) > 3.4e38: inf, then inf/inf = nan
    trusted = finite(reference)  # float64 holds exp(100); it too overflows for exp forget gates over many steps
    assert trusted.float().mean() > 0.9
    # float32 resolves a pre-activation near 100 to 8e-6: that, not the stabiliser, bounds the agreement.
    assert float((stable32.double() - reference)[:, trusted].abs().max()) <= 1e-4


@pytest.mark.parametrize("forget_gate", FORGET_GATES)
def test_gradcheck(forget_gate):
    torch.manual_seed(3)
    module = SLSTM(2, 3, forget_gate=forget_gate, dtype=torch.float64)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(6, 2, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    given = [torch.randn(2, 3, generator=gen, dtype=torch.float64) for _ in range(4)]
    given[2] = given[2].abs() + 1  # a normaliser is positive
    given = [s.requires_grad_() for s in given]
    names = [name for name, _ in module.named_parameters()]

    def f(x, *rest):
        params, state = rest[: len(names)], rest[len(names) :]
        out, final = torch.func.functional_call(module, dict(zip(names, params)), (x, tuple(state) or None))
        return out, *final[:3]  # m is piecewise: its own derivative jumps where the max switches

    params = tuple(module.parameters())
    assert torch.autograd.gradcheck(f, (x, *params))  # from the default state, m_0 = -inf
    assert torch.autograd.gradcheck(f, (x, *params, *given), fast_mode=True)


def test_continuing_from_a_returned_state_equals_one_run():
    torch.manual_seed(5)
    module = SLSTM(INPUT, HIDDEN, forget_gate="exp", dtype=torch.float64)
    x = sequence(steps=10)
    whole, final = module(x)
    first, middle = module(x[:4])
    second, final_again = module(x[4:], middle)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    for a, b in zip(final, final_again):
        torch.testing.assert_close(a, b)
    module.stabilise = False  # the plain form reads a stabilised state as c e^m, n e^m
    torch.testing.assert_close(module(x[4:], middle)[0], second)


def test_layouts_and_traces():
    torch.manual_seed(6)
    module = SLSTM(INPUT, HIDDEN, dtype=torch.float64)
    x = sequence(steps=7)
    output, _, traces = module(x, return_gates=True)
    assert list(traces) == ["z", "i", "f", "o", "h", "c", "n", "m"]
    assert all(v.shape == (7, BATCH, HIDDEN) for v in traces.values())
    torch.testing.assert_close(traces["h"], output)
    torch.testing.assert_close(traces["h"], traces["o"] * traces["c"] / traces["n"])
    first = SLSTM(INPUT, HIDDEN, batch_first=True, dtype=torch.float64)
    first.load_state_dict(module.state_dict())
    torch.testing.assert_close(first(x.transpose(0, 1))[0], output.transpose(0, 1))
    one, one_state = module(x[:, 0])
    torch.testing.assert_close(one, output[:, 0])
    assert all(s.shape == (HIDDEN,) for s in one_state)


def test_first_step_stabiliser_is_the_input_gate_pre_activation():
    # m_0 = -inf: nothing stored yet, so m_1 = i~_1, i'_1 = 1 and f'_1 = 0.
    gen = torch.Generator().manual_seed(7)
    xw = torch.randn(2, 4 * HIDDEN, generator=gen, dtype=torch.float64)
    h, c, n, m = fresh_state(2, HIDDEN, torch.float64)
    weight_hh = torch.randn(4 * HIDDEN, HIDDEN, generator=gen, dtype=torch.float64)
    (h1, _, _, m1), (z, i, f, o) = slstm_step(xw, h, c, n, m, weight_hh)
    torch.testing.assert_close(m1, xw.chunk(4, dim=-1)[1])
    assert torch.equal(i, torch.ones_like(i)) and torch.equal(f, torch.zeros_like(f))
    torch.testing.assert_close(h1, o * z)


def test_parameter_count():
    module = SLSTM(INPUT, HIDDEN)
    assert sum(p.numel() for p in module.parameters()) == 4 * HIDDEN * (INPUT + HIDDEN + 1)
    assert sum(p.numel() for p in SLSTM(INPUT, HIDDEN, bias=False).parameters()) == 4 * HIDDEN * (INPUT + HIDDEN)


BAD = {
    "forget gate": (lambda: SLSTM(INPUT, HIDDEN, forget_gate="tanh"), r"forget_gate 'sigmoid' or 'exp', got 'tanh'"),
    "state not a 4-tuple": (
        lambda: SLSTM(INPUT, HIDDEN)(torch.zeros(3, 2, INPUT), (torch.zeros(2, HIDDEN),) * 2),
        r"state to be a tuple \(h, c, n, m\), got tuple of length 2",
    ),
    "state shape": (
        lambda: SLSTM(INPUT, HIDDEN)(torch.zeros(3, 2, INPUT), (torch.zeros(1, 2, HIDDEN),) * 4),
        r"h for batched 3-D input to be 2-D, got 3-D",
    ),
    "input size": (lambda: SLSTM(INPUT, HIDDEN)(torch.zeros(3, 2, INPUT + 1)), r"size 4 in its last dimension, got 5"),
    "input dtype": (
        lambda: SLSTM(INPUT, HIDDEN)(torch.zeros(3, 2, INPUT, dtype=torch.float64)),
        r"dtype torch.float32, got torch.float64",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_says_what_was_expected_and_what_came(case):
    call, message = BAD[case]
    with pytest.raises(RNNInputError, match=message):
        call()
