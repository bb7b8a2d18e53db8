"""The opt-in fast paths of `snippets.fast`: taken only when switched on and where they apply, and right.

`test_equivalence.py` holds both paths to torch.nn. Here: which path runs (seen in the autograd
graph, not in timings), finite differences on the hand-written backward, the step functions'
path against it, traces from both, and the compiled loops. Speed lives in `python -m
snippets.bench`, not in tests.
"""

import contextlib
import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import snippets
from snippets import fast
from snippets.fast import bptt, compiled

BPTT = lambda: fast.use("bptt")  # noqa: E731

T, B, INPUT, HIDDEN = 5, 3, 3, 4
F64 = dict(dtype=torch.float64)


def graph_names(tensor: torch.Tensor) -> set[str]:
    """Names of every node in the autograd graph behind `tensor`."""
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo += [next_node for next_node, _ in node.next_functions]
    return {type(node).__name__ for node in seen}


def uses_bptt(module, x) -> bool:
    output = module(x)[0]
    data = output.data if isinstance(output, nn.utils.rnn.PackedSequence) else output
    return bool({"LSTMLayerBackward", "GRULayerBackward"} & graph_names(data))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True, batch_first=True, bias=False)])
def test_the_step_functions_are_the_default_and_bptt_is_opt_in(mode, options):
    module = getattr(snippets, mode)(INPUT, HIDDEN, **options)
    x = torch.randn(B, T, INPUT) if options.get("batch_first") else torch.randn(T, B, INPUT)
    assert not uses_bptt(module, x)
    with BPTT():
        assert uses_bptt(module, x)
        assert uses_bptt(module, x[:, 0] if not options.get("batch_first") else x[0])  # unbatched
    assert not uses_bptt(module, x)  # the switch is undone on leaving the block
    assert fast.active() == "autograd"


def test_an_unknown_path_is_refused():
    with pytest.raises(ValueError, match="expected a path in"):
        with fast.use("cuda"):
            pass


@pytest.mark.parametrize(
    "module",
    [
        snippets.LSTM(INPUT, HIDDEN, proj_size=2),  # no hand-written backward with a projection
        snippets.RNN(INPUT, HIDDEN),  # nor for the vanilla RNN
    ],
    ids=["LSTM-proj", "RNN"],
)
def test_autograd_loop_where_there_is_no_hand_written_backward(module):
    with BPTT():
        assert not uses_bptt(module, torch.randn(T, B, INPUT))


@pytest.mark.parametrize("name", ["LSTM1997", "CoupledLSTM", "PeepholeLSTM", "ChoGRU"])
def test_variants_keep_autograd(name):
    variants = pytest.importorskip("snippets.variants")
    with BPTT():
        assert not uses_bptt(getattr(variants, name)(INPUT, HIDDEN), torch.randn(T, B, INPUT))


def test_autograd_loop_for_packed_sequences():
    lstm = snippets.LSTM(INPUT, HIDDEN)
    packed = pack_padded_sequence(torch.randn(T, B, INPUT), torch.tensor([5, 2, 4]), enforce_sorted=False)
    with BPTT():
        assert not uses_bptt(lstm, packed)


def test_subclass_with_its_own_step_keeps_autograd():
    """A subclass that changes the equations must not silently run the standard LSTM's backward."""

    def my_step(xw, h, c, weight_hh, bias_hh):
        return snippets.lstm_step(xw, h, c, weight_hh, bias_hh)

    class Custom(snippets.LSTM):
        step = staticmethod(my_step)

    with BPTT():
        assert not uses_bptt(Custom(INPUT, HIDDEN), torch.randn(T, B, INPUT))


def test_clamps_run_the_step_functions():
    clamp = [{"gate": "f", "unit": 0, "from": 0, "to": 2, "value": 1.0}]
    lstm = snippets.LSTM(INPUT, HIDDEN)
    with BPTT():
        assert not bool({"LSTMLayerBackward"} & graph_names(lstm(torch.randn(T, B, INPUT), clamp=clamp)[0]))


# -- finite differences -------------------------------------------------------------------------


def lstm_inputs(generator, bias=True):
    """x, h_0, c_0, W_ih, W_hh, b."""
    new = lambda *shape: torch.randn(*shape, **F64, generator=generator, requires_grad=True)  # noqa: E731
    return (
        new(T, B, INPUT),
        new(B, HIDDEN),
        new(B, HIDDEN),
        new(4 * HIDDEN, INPUT),
        new(4 * HIDDEN, HIDDEN),
        new(4 * HIDDEN) if bias else None,
    )


def gru_inputs(generator, bias=True):
    """x, h_0, W_ih, W_hh, b_ih, b_hh."""
    new = lambda *shape: torch.randn(*shape, **F64, generator=generator, requires_grad=True)  # noqa: E731
    return (
        new(T, B, INPUT),
        new(B, HIDDEN),
        new(3 * HIDDEN, INPUT),
        new(3 * HIDDEN, HIDDEN),
        *((new(3 * HIDDEN), new(3 * HIDDEN)) if bias else (None, None)),
    )


def gradcheck(layer, inputs, outputs) -> bool:
    """Finite differences for every input that is a tensor (a missing bias is None)."""
    given = [k for k, v in enumerate(inputs) if v is not None]

    def run(*tensors):
        full = list(inputs)
        for k, v in zip(given, tensors):
            full[k] = v
        return layer.apply(*full)[outputs]

    return torch.autograd.gradcheck(run, [inputs[k] for k in given])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "outputs", [slice(0, 3), slice(0, 1), slice(1, 2), slice(2, 3)], ids=["all", "output-only", "h_T-only", "c_T-only"]
)
def test_lstm_backward_gradcheck(bias, outputs):
    assert gradcheck(bptt.LSTMLayer, lstm_inputs(torch.Generator().manual_seed(0), bias), outputs)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("outputs", [slice(0, 2), slice(0, 1), slice(1, 2)], ids=["all", "output-only", "h_T-only"])
def test_gru_backward_gradcheck(bias, outputs):
    assert gradcheck(bptt.GRULayer, gru_inputs(torch.Generator().manual_seed(0), bias), outputs)


def test_second_derivatives_are_refused_not_wrong():
    inputs = lstm_inputs(torch.Generator().manual_seed(0))
    w = inputs[4]
    with pytest.raises(fast.FastPathError, match="cannot be differentiated.*create_graph=True"):
        torch.autograd.grad(bptt.LSTMLayer.apply(*inputs)[0].square().sum(), w, create_graph=True)


# -- both paths agree -----------------------------------------------------------------------------

GRID = [
    dict(zip(["num_layers", "bidirectional", "batch_first", "bias"], v))
    for v in itertools.product([1, 2], [False, True], [False, True], [True, False])
]


def run_both(mode, options, dtype=torch.float64):
    """Outputs, final state, traces and all gradients from the hand-written path and the default path.

    Traces are recorded without grad: where a trace needs a gradient the step functions run
    (`test_traces_that_need_a_gradient_run_the_step_functions`), so a traced call with grad would
    compare the default path with itself.
    """
    torch.manual_seed(0)
    module = getattr(snippets, mode)(INPUT, HIDDEN, **options).to(dtype)
    x = torch.randn(B, T, INPUT, dtype=dtype) if options.get("batch_first") else torch.randn(T, B, INPUT, dtype=dtype)
    x.requires_grad_()
    results = []
    for context in (BPTT, contextlib.nullcontext):
        with context():
            output, hidden = module(x)
            with torch.no_grad():
                traces = module(x, return_gates=True)[2]
        states = hidden if isinstance(hidden, tuple) else (hidden,)
        weights = torch.linspace(-1, 1, output.shape[-1], dtype=dtype)
        loss = (output * weights).sum() + sum(s.square().sum() for s in states)
        leaves = [x, *module.parameters()]
        grads = torch.autograd.grad(loss, leaves)
        results.append(
            dict(
                out=[output.detach(), *(s.detach() for s in states)],
                grads=grads,
                traces=traces,
                hand_written=bool({"LSTMLayerBackward", "GRULayerBackward"} & graph_names(output)),
            )
        )
    return results


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("options", GRID, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_hand_written_and_autograd_paths_agree(mode, options):
    hand, steps = run_both(mode, options)
    assert hand["hand_written"] and not steps["hand_written"]
    for a, b in zip(hand["out"] + list(hand["grads"]), steps["out"] + list(steps["grads"]), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    assert hand["traces"].keys() == steps["traces"].keys()
    for name in hand["traces"]:
        torch.testing.assert_close(hand["traces"][name], steps["traces"][name], atol=1e-12, rtol=0, msg=name)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_traces_without_grad_agree(mode):
    """Inference on snippets.fast.bptt's forward (with traces or without) equals the cells' step functions."""
    module = getattr(snippets, mode)(INPUT, HIDDEN, num_layers=2, bidirectional=True).double()
    x = torch.randn(T, B, INPUT, **F64)
    with torch.no_grad():
        steps = module(x, return_gates=True)
        with BPTT():
            hand = module(x, return_gates=True)
            plain = module(x)
    torch.testing.assert_close(hand[0], steps[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(plain[0], steps[0], atol=1e-12, rtol=0)
    for name in hand[2]:
        torch.testing.assert_close(hand[2][name], steps[2][name], atol=1e-12, rtol=0, msg=name)


def test_fast_path_gate_traces_are_values_only():
    """Traces are for looking inside: from the hand-written path (taken when no trace needs a gradient),
    the gates and c are values, outside the graph; h is the output itself."""
    inputs = lstm_inputs(torch.Generator().manual_seed(0))
    out, _, _, gates, c = bptt.LSTMLayer.apply(*inputs)
    assert out.requires_grad and not gates.requires_grad and not c.requires_grad


# -- compiled loops -------------------------------------------------------------------------------


@pytest.mark.slow  # torch.compile: 20 to 60 s of compiling each, a minute and a half for the two
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_compiled_loops_equal_torch_nn(mode):
    """Kept tiny: torch.compile unrolls the loop, so compile time grows with the sequence length."""
    torch.manual_seed(0)
    theirs = getattr(nn, mode)(INPUT, HIDDEN)
    ours = getattr(snippets, mode)(INPUT, HIDDEN)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 2, INPUT, requires_grad=True)
    results = []
    for module, context in ((theirs, contextlib.nullcontext), (ours, lambda: fast.use("compiled"))):
        with context():
            output, hidden = module(x)
            states = hidden if isinstance(hidden, tuple) else (hidden,)
            loss = output.sum() + sum(s.square().sum() for s in states)
            grads = torch.autograd.grad(loss, [x, *module.parameters()])
        results.append([output.detach(), *(s.detach() for s in states), *grads])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
    assert fast.active() == "autograd"  # off again after the block


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_the_loops_for_the_compiler_are_the_eager_equations(mode):
    """Uncompiled, in float64: snippets.compiled's loops give what snippets.bptt's give, exactly."""
    generator = torch.Generator().manual_seed(0)
    new = lambda *shape: torch.randn(*shape, **F64, generator=generator)  # noqa: E731
    gates = 4 if mode == "lstm" else 3
    xw, h0, weight_hh = new(T, B, gates * HIDDEN), new(B, HIDDEN), new(gates * HIDDEN, HIDDEN)
    extra = (new(B, HIDDEN),) if mode == "lstm" else ()  # c_0
    inputs = (h0, *extra, weight_hh) if mode == "lstm" else (h0, weight_hh, new(gates * HIDDEN))
    results = []
    for module in (bptt, compiled):
        forward, backward = getattr(module, f"{mode}_forward"), getattr(module, f"{mode}_backward")
        saved = forward(xw.clone(), *inputs)  # the eager LSTM loop overwrites xw with the gates
        generator.manual_seed(1)  # the same gradients of the outputs and final states for both
        d_outputs = [new(T, B, HIDDEN)] + [new(B, HIDDEN) for _ in range(len(extra) + 1)]
        results.append([*saved, *backward(*saved, weight_hh, *d_outputs)])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


# -- the matrix product ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_linear_is_the_matrix_product(dtype, bias, layout):
    """oneDNN for float32 (any strides), addmm otherwise: both x W^T + b."""
    generator = torch.Generator().manual_seed(0)
    x, w = (torch.randn(*shape, dtype=dtype, generator=generator) for shape in [(7, 5), (6, 5)])
    if layout == "transposed":
        x, w = x.t().contiguous().t(), w.t().contiguous().t()
    b = torch.randn(6, dtype=dtype, generator=generator) if bias else None
    expected = x.double() @ w.double().t() + (0 if b is None else b.double())
    torch.testing.assert_close(bptt.linear(x, w, b).double(), expected, rtol=1e-6, atol=1e-6)
