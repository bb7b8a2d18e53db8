"""What `torch.nn` users rely on, on the default path (the step functions under autograd): traces that
carry gradients, second derivatives, `torch.jit.trace`, an empty batch; and the `clamp=` hook."""

import pytest
import torch

import snippets

T, B, INPUT, HIDDEN = 6, 3, 4, 5


@pytest.mark.parametrize("mode, gate", [("LSTM", "f"), ("GRU", "z")])
def test_a_loss_on_the_gate_traces_has_a_gradient(mode, gate):
    torch.manual_seed(0)
    module = getattr(snippets, mode)(INPUT, HIDDEN)
    x = torch.randn(T, B, INPUT)
    output, _, traces = module(x, return_gates=True)
    plain = torch.autograd.grad(output.sum(), module.weight_hh_l0, retain_graph=True)[0]
    with_gate = torch.autograd.grad(output.sum() + 100 * traces[gate].mean(), module.weight_hh_l0)[0]
    assert not torch.allclose(plain, with_gate), "the gate term added nothing: the traces carry no gradient"
    assert all(v.requires_grad for v in traces.values())


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_double_backward_matches_torch_nn(mode):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(INPUT, HIDDEN).double()
    ours = getattr(snippets, mode)(INPUT, HIDDEN).double()
    ours.load_state_dict(theirs.state_dict())
    results = []
    for module in (theirs, ours):
        x = torch.randn(
            T, B, INPUT, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True
        )
        (grad,) = torch.autograd.grad(module(x)[0].square().sum(), x, create_graph=True)
        results.append(torch.autograd.grad(grad.square().sum(), module.weight_hh_l0)[0])
    torch.testing.assert_close(results[1], results[0], atol=1e-10, rtol=0)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_jit_trace_gives_the_same_outputs(mode):
    module = getattr(snippets, mode)(INPUT, HIDDEN).eval()
    x = torch.randn(T, B, INPUT)
    traced = torch.jit.trace(module, x, check_trace=False)
    torch.testing.assert_close(traced(x)[0], module(x)[0])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_empty_batch_runs_forward_and_backward_like_torch_nn(mode, dtype):
    theirs = getattr(torch.nn, mode)(INPUT, HIDDEN).to(dtype)
    ours = getattr(snippets, mode)(INPUT, HIDDEN).to(dtype)
    for module in (theirs, ours):
        x = torch.randn(T, 0, INPUT, dtype=dtype, requires_grad=True)
        output, hidden = module(x)
        assert output.shape == (T, 0, HIDDEN)
        output.sum().backward()
        assert x.grad.shape == x.shape


# -- clamp: the gate lab's interventions ------------------------------------------------------------


def test_a_clamp_pins_the_gate_over_its_steps_and_changes_what_follows():
    torch.manual_seed(0)
    lstm = snippets.LSTM(INPUT, HIDDEN)
    x = torch.randn(T, B, INPUT)
    free, _, traces = lstm(x, return_gates=True)
    pin = {"gate": "f", "unit": 2, "from": 1, "to": 4, "value": 1.0}
    held, _, pinned = lstm(x, return_gates=True, clamp=[pin])
    f = pinned["f"][0, 0]
    assert torch.all(f[1:4, :, 2] == 1.0)
    torch.testing.assert_close(f[[0, 4, 5]][:, :, 2] != 1.0, torch.ones(3, B, dtype=torch.bool))
    torch.testing.assert_close(f[0], traces["f"][0, 0, 0])  # nothing changes before the pin
    torch.testing.assert_close(held[0], free[0])
    assert not torch.allclose(held[1:], free[1:])  # everything downstream is recomputed
    c = pinned["c"][0, 0]  # with f = 1 the unit keeps its old cell state and adds the write
    i, g = pinned["i"][0, 0], pinned["g"][0, 0]
    torch.testing.assert_close(c[2, :, 2], c[1, :, 2] + i[2, :, 2] * g[2, :, 2])


def test_a_clamp_equals_the_step_function_run_by_hand():
    torch.manual_seed(0)
    gru = snippets.GRU(INPUT, HIDDEN).double()
    x = torch.randn(T, 1, INPUT, dtype=torch.float64)
    out, _ = gru(
        x,
        clamp=[
            {"gate": "z", "unit": 0, "from": 2, "to": 5, "value": 1.0},
            {"gate": "r", "unit": 4, "from": 0, "to": 6, "value": 0.0},
        ],
    )
    h = torch.zeros(1, HIDDEN, dtype=torch.float64)
    xw = torch.nn.functional.linear(x, gru.weight_ih_l0, gru.bias_ih_l0)
    for t in range(T):

        def clamp(name, value, t=t):
            value = value.clone()
            if name == "z" and 2 <= t < 5:
                value[:, 0] = 1.0
            if name == "r":
                value[:, 4] = 0.0
            return value

        h, _ = snippets.gru_step(xw[t], h, gru.weight_hh_l0, gru.bias_hh_l0, clamp=clamp)
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)


@pytest.mark.parametrize(
    "pin, message",
    [
        (
            {"gate": "q", "unit": 0, "from": 0, "to": 1, "value": 1.0},
            r"gate to be one of \('i', 'f', 'g', 'o'\), got 'q'",
        ),
        ({"gate": "f", "unit": 5, "from": 0, "to": 1, "value": 1.0}, r"unit to be an int in \[0, 5\), got 5"),
        ({"gate": "f", "unit": 0, "from": 3, "to": 3, "value": 1.0}, r"'from' < 'to'"),
        ({"gate": "f", "unit": 0, "from": 0, "to": 7, "value": 1.0}, r"'to' to be a step in \[0, 6\], got 7"),
        ({"gate": "f", "unit": 0, "from": 0, "to": 1, "value": float("nan")}, r"finite number, got nan"),
        ({"gate": "f", "unit": 0, "from": 0}, r"dict with keys"),
        (  # the probe's case: the misspelt key used to be ignored, pinning layer 0
            {"gate": "f", "unit": 0, "from": 0, "to": 1, "value": 1.0, "layers": 1},
            r"unknown clamp key 'layers'; expected the keys \('gate', 'unit', 'from', 'to', 'value'\) "
            r"and optionally \('layer', 'direction'\)",
        ),
        (
            {"gate": "f", "unit": 0, "from": 0, "to": 1, "value": 1.0, "dir": 1, "Layer": 0},
            r"unknown clamp keys 'dir', 'Layer'",
        ),
    ],
)
def test_a_bad_clamp_gets_a_clear_error(pin, message):
    with pytest.raises(snippets.RNNInputError, match=message):
        snippets.LSTM(INPUT, HIDDEN)(torch.randn(T, B, INPUT), clamp=[pin])


def test_a_module_whose_step_takes_no_clamp_says_so():
    from snippets.variants import CoupledLSTM

    with pytest.raises(snippets.RNNInputError, match="coupled_lstm_step does not"):
        CoupledLSTM(INPUT, HIDDEN)(
            torch.randn(T, B, INPUT), clamp=[{"gate": "f", "unit": 0, "from": 0, "to": 1, "value": 1.0}]
        )


@pytest.mark.parametrize(
    "argv",
    [["--repeats", "0"], ["--hidden", "-4"], ["--repeats", "two"], ["--batch", "0"], ["--threads", "0"]],
)
def test_the_benchmark_refuses_a_count_below_one_with_a_clear_error(argv, capsys):
    from snippets.bench.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and "expected a positive int" in capsys.readouterr().err


def test_the_benchmark_runs_at_the_sizes_it_is_given():
    """No timing asserted: every candidate runs once per round at the given sizes, on either clock."""
    import time

    from snippets.experiments.layer_timing import measure

    medians, compile_s = measure("GRU", 4, 1, False, batch=2, steps=3, input_size=2, clock=time.process_time)
    assert compile_s == {} and len(medians) == 6
    assert all(len(pair) == 2 and min(pair) >= 0 for pair in medians.values())
