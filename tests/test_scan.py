"""The log-space scan against the step-by-step recurrence: values and gradients, any h0, long sequences."""

import pytest
import torch
import torch.nn.functional as F

from snippets.scan import linear_recurrence, log_space_scan


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds hand-offs, which a busy machine makes slow."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


BATCH, HIDDEN = 2, 8
LENGTHS = (1, 2, 17, 512, 4096)
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def assert_close(actual, expected, tol, what=""):
    """Max abs error <= tol, relative to the largest entry where entries exceed 1 (sums over long sequences)."""
    actual, expected = actual.detach(), expected.detach()
    scale = max(1.0, float(expected.abs().max()))
    error = float((actual - expected).abs().max())
    assert error <= tol * scale, f"{what}: max error {error:.2e} > {tol:.0e} x {scale:.3g}"


def coefficients(steps, dtype, seed=0):
    """log a_t < 0 and log b_t of a gated recurrence, and an h0 with entries of both signs."""
    g = torch.Generator().manual_seed(seed)
    log_a = -F.softplus(torch.randn(steps, BATCH, HIDDEN, generator=g, dtype=dtype))
    log_b = 0.5 * torch.randn(steps, BATCH, HIDDEN, generator=g, dtype=dtype) - 1  # b_t around 0.4
    h0 = 3 * torch.randn(BATCH, HIDDEN, generator=g, dtype=dtype)
    assert (h0 < 0).any() and (h0 > 0).any()
    return [v.requires_grad_() for v in (log_a, log_b, h0)]


def values_and_gradients(run, leaves, seed=1):
    """All states, and the gradients of a random projection of them with respect to every leaf."""
    states = run(*leaves)
    gen = torch.Generator().manual_seed(seed)
    weights = torch.randn(states.shape, generator=gen, dtype=torch.float64).to(states.dtype)  # same draw in any dtype
    return states, torch.autograd.grad((weights * states).sum(), leaves)


def by_loop(log_a, log_b, h0):
    return linear_recurrence(log_a.exp(), log_b.exp(), h0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("steps", LENGTHS)
def test_scan_equals_the_loop_in_states_and_gradients(steps, dtype):
    leaves = coefficients(steps, dtype)
    states, grads = values_and_gradients(log_space_scan, leaves)
    expected, expected_grads = values_and_gradients(by_loop, leaves)
    tol = TOLERANCE[dtype]
    assert_close(states, expected, tol, "states")
    assert_close(states[-1], expected[-1], tol, "final state")
    for name, grad, expected_grad in zip(("log a", "log b", "h0"), grads, expected_grads):
        assert_close(grad, expected_grad, tol, f"gradient of {name}")


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 16, 17, 100])
def test_any_chunk_size_gives_the_same_states(chunk_size):
    # 17 steps: chunk sizes that divide it, that leave a remainder, and one longer than the sequence.
    leaves = coefficients(17, torch.float64, seed=2)
    expected = by_loop(*leaves)
    assert_close(log_space_scan(*leaves, chunk_size=chunk_size), expected, 1e-12)


def test_h0_enters_linearly_with_its_sign():
    # h_t = A_t h0 + (the states from a zero start): flipping h0 moves every state by -2 A_t h0.
    log_a, log_b, h0 = (v.detach() for v in coefficients(50, torch.float64, seed=3))
    decay = log_a.cumsum(0).exp()
    difference = log_space_scan(log_a, log_b, h0) - log_space_scan(log_a, log_b, -h0)
    assert_close(difference, 2 * decay * h0, 1e-12)


def test_one_log_space_pass_loses_float32_precision_that_chunks_keep():
    # Why the scan is chunked: log A_t reaches about -3000 over 4096 steps, where float32 resolves 2e-4.
    log_a, log_b, h0 = (v.detach() for v in coefficients(4096, torch.float64, seed=4))
    exact = by_loop(log_a, log_b, h0)
    single = log_space_scan(log_a.float(), log_b.float(), h0.float(), chunk_size=None)
    chunked = log_space_scan(log_a.float(), log_b.float(), h0.float())
    scale = float(exact.abs().max())
    assert float((single.double() - exact).abs().max()) > 1e-4 * scale
    assert float((chunked.double() - exact).abs().max()) < 1e-5 * scale


def test_gradcheck():
    leaves = coefficients(7, torch.float64, seed=5)
    assert torch.autograd.gradcheck(lambda *v: log_space_scan(*v, chunk_size=3), leaves)


def test_saturated_gates_stay_finite():
    # a_t = e^-200 underflows in linear space; the log-space scan never forms it.
    log_a = torch.full((300, 1, 2), -200.0, requires_grad=True)
    log_b = torch.zeros(300, 1, 2, requires_grad=True)
    states = log_space_scan(log_a, log_b, torch.full((1, 2), -5.0))
    states.sum().backward()
    assert torch.allclose(states, torch.ones_like(states))  # each step forgets everything and writes 1
    assert torch.isfinite(log_a.grad).all() and torch.isfinite(log_b.grad).all()
