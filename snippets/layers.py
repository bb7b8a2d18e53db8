r"""Sequence modules `RNN`, `LSTM`, `GRU`: drop-in replacements for their `torch.nn` namesakes.

Same constructor arguments, parameter names and shapes (so `load_state_dict` works both ways),
initialisation, forward signature and return values, including unbatched (2-D) input, a given or
omitted initial state, and `PackedSequence` input. One addition: `forward(..., return_gates=True)`
also returns every gate's activation at every time step, layer and direction.

The time loop is plain Python over the cell equations in `snippets.cells`. The input projection
$W_{ih} x_t + b_{ih}$ of a layer is one matrix product over all time steps; the loop then walks the
`unbind(0)` views of it (indexing `xw[t]` instead would make the backward pass quadratic in T).

Two ways through the loop, with the same results (`tests/test_equivalence.py` holds both to torch.nn):

- an `LSTM` (without projection) or a `GRU` on a padded batch, in training or inference: the
  loops of `snippets.bptt`, whose backward pass is written by hand and whose matrix products go
  through oneDNN (`python -m snippets.bench` times it);
- everything else (`RNN`, `proj_size > 0`, `PackedSequence` input, and any block under
  `autograd_loop()`): the step functions of `snippets.cells`, differentiated by `torch.autograd`.

`compiled_loops()` (from `snippets.compiled`) is an opt-in context in which those loops run through
`torch.compile` (a one-off compile of a minute or more per sequence length, then faster steps).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from snippets.bptt import GRULayer, LSTMLayer
from snippets.compiled import compiled_loops  # noqa: F401 (re-exported)
from snippets.cells import NONLINEARITIES, gru_step, lstm_step, rnn_step
from snippets.errors import RNNInputError, check_dims, check_size

TRACE_DIMS = ("layer", "direction", "time", "batch", "hidden")


class _Settings:
    bptt = True  # use snippets.bptt's hand-written backward where it applies


_settings = _Settings()


@contextlib.contextmanager
def autograd_loop():
    """Runs every time loop through `torch.autograd` instead of `snippets.bptt`, inside the block.

    For comparison (`snippets.bench`) and for the tests, which check both paths against torch.nn.
    """
    before, _settings.bptt = _settings.bptt, False
    try:
        yield
    finally:
        _settings.bptt = before


class _RNNBase(nn.Module):
    """Parameters, checks and the layer/direction/time loops shared by RNN, LSTM and GRU."""

    mode: str
    num_gates: int
    trace_names: tuple[str, ...]  # gate names, then state names, as `_step` returns them

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_config(input_size, hidden_size, num_layers, dropout, proj_size)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                self._add_layer_parameters(layer, direction, dict(device=device, dtype=dtype))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self) -> int:
        """Size of h: the projection's size when there is one."""
        return self.proj_size or self.hidden_size

    def _add_layer_parameters(self, layer: int, direction: int, new: dict) -> None:
        """Registers one layer-direction's parameters in torch.nn's order (it fixes the init)."""
        gates = self.num_gates * self.hidden_size
        in_size = self.input_size if layer == 0 else self.real_hidden_size * self.num_directions
        shapes = {"weight_ih": (gates, in_size), "weight_hh": (gates, self.real_hidden_size)}
        if self.bias:
            shapes |= {"bias_ih": (gates,), "bias_hh": (gates,)}
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        for kind, shape in shapes.items():
            name = _param_name(kind, layer, direction)
            self.register_parameter(name, nn.Parameter(torch.empty(shape, **new)))
            self._flat_weights_names.append(name)

    def reset_parameters(self) -> None:
        """U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter, as torch.nn does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """No-op, kept so code written for torch.nn (which packs weights for cuDNN) runs unchanged."""

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        per_layer = len(self._flat_weights_names) // (self.num_layers * self.num_directions)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[k : k + per_layer]] for k in range(0, len(names), per_layer)]

    def _layer_weights(self, layer: int, direction: int):
        """(w_ih, b_ih), and the recurrent weights the step function takes."""
        def get(kind: str) -> Tensor | None:
            return getattr(self, _param_name(kind, layer, direction), None)

        return (get("weight_ih"), get("bias_ih")), (get("weight_hh"), get("bias_hh"), get("weight_hr"))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)
        for key, default in defaults.items():
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s

    # -- the computation -------------------------------------------------------------------

    def forward(self, input, hx=None, return_gates: bool = False):
        """Same as torch.nn; with `return_gates=True` also returns a dict of traces.

        Each trace has dims `(layer, direction, time, batch, hidden)` (`TRACE_DIMS`), time in input
        order whatever `batch_first` says; unbatched input has batch size 1; the padded steps of a
        `PackedSequence` are NaN. Traces are for looking at: differentiate the output and the final
        state, not the traces (on the hand-written backward path of `snippets.bptt` they carry no
        gradient).
        """
        x, packing, batched = self._time_major_input(input)
        state = self._initial_state(hx, x, batched)
        output, state, traces = self._run(x, state, packing, return_gates)
        output, state = self._format(output, state, input, packing, batched)
        hidden = state if self.mode == "LSTM" else state[0]
        return (output, hidden, traces) if return_gates else (output, hidden)

    def _run(self, x: Tensor, state: tuple[Tensor, ...], packing: _Packing | None, record: bool):
        """All layers and directions; returns the last layer's output, final states and traces."""
        finals, traces = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                projection, recurrent = self._layer_weights(layer, direction)
                start = tuple(s[layer * self.num_directions + direction] for s in state)
                if _settings.bptt and packing is None and self._has_bptt(recurrent):
                    out, final, trace = self._bptt_scan(x, start, projection, recurrent, direction == 1, record)
                else:
                    xw = F.linear(x, *projection)
                    mask = None if packing is None else packing.mask
                    out, final, trace = self._scan(xw, start, recurrent, mask, direction == 1, record)
                outputs.append(out)
                finals.append(final)
                traces.append(trace)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True) if packing is None else packing.dropout(x, self.dropout)
        state = tuple(torch.stack(s) for s in zip(*finals))
        return x, state, self._collect(traces) if record else None

    def _scan(self, xw: Tensor, state, recurrent, mask: Tensor | None, reverse: bool, record: bool):
        """The time loop of one layer in one direction.

        With `mask` (packed input), a sequence's state stops changing after its last step, and in
        the reverse direction it starts from the initial state at its own last step.
        """
        steps = xw.unbind(0)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        outputs, trace = [None] * len(steps), [None] * len(steps)
        for t in order:
            new_state, gates = self._step(steps[t], state, recurrent)
            state = new_state if mask is None else tuple(torch.where(mask[t], n, s) for n, s in zip(new_state, state))
            outputs[t] = state[0]
            if record:
                trace[t] = gates + new_state
        return torch.stack(outputs), state, _stack_trace(trace, mask) if record else None

    def _has_bptt(self, recurrent) -> bool:
        """Whether `snippets.bptt` has a hand-written backward for this layer (RNN: no)."""
        return False

    def _bptt_scan(self, x: Tensor, state, projection, recurrent, reverse: bool, record: bool):
        """The time loop of one layer-direction through `snippets.bptt`; same returns as `_scan`."""
        raise NotImplementedError

    def _collect(self, traces: list[list[Tensor]]) -> dict[str, Tensor]:
        """Per-(layer, direction) lists of (time, batch, hidden) tensors -> dict of 5-D tensors."""
        by_name = {}
        for k, name in enumerate(self.trace_names):
            parts = [t[k] for t in traces]  # one layer-direction: a view, not a copy
            stacked = torch.stack(parts) if len(parts) > 1 else parts[0].unsqueeze(0)
            by_name[name] = stacked.unflatten(0, (self.num_layers, self.num_directions))
        return by_name

    # -- input, state and output plumbing ----------------------------------------------------

    def _time_major_input(self, input):
        """(time, batch, features) tensor, packing info or None, and whether input was batched."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            check_dims(f"{name} packed input data", input.data, (2,))
            self._check_features(input.data)
            packing = _Packing(input)
            return packing.pad(input.data), packing, True
        check_dims(f"{name} input", input, (2, 3))
        self._check_features(input)
        batched = input.dim() == 3
        x = input.transpose(0, 1) if batched and self.batch_first else input
        x = x if batched else x.unsqueeze(1)
        if x.shape[0] == 0:
            raise RNNInputError(f"{name}: expected a sequence of at least one time step, got input of shape {tuple(input.shape)}")
        return x, None, batched

    def _check_features(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.shape[-1] != self.input_size:
            raise RNNInputError(
                f"{name}: expected input of size {self.input_size} in its last dimension, "
                f"got {input.shape[-1]} (input shape {tuple(input.shape)})"
            )
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype:
            raise RNNInputError(f"{name}: expected input of dtype {dtype}, got {input.dtype}")

    def _state_shapes(self, batch: int) -> dict[str, tuple[int, int, int]]:
        layers = self.num_layers * self.num_directions
        shapes = {"h_0": (layers, batch, self.real_hidden_size)}
        if self.mode == "LSTM":
            shapes["c_0"] = (layers, batch, self.hidden_size)
        return shapes

    def _initial_state(self, hx, x: Tensor, batched: bool) -> tuple[Tensor, ...]:
        """The given initial state, checked and made 3-D, or zeros."""
        shapes = self._state_shapes(x.shape[1])
        if hx is None:
            return tuple(x.new_zeros(shape) for shape in shapes.values())
        given = _as_tuple(hx, len(shapes), type(self).__name__)
        return tuple(self._check_state(h, n, s, batched, x.dtype) for h, (n, s) in zip(given, shapes.items()))

    def _check_state(self, h: Tensor, name: str, shape: tuple, batched: bool, dtype) -> Tensor:
        module = type(self).__name__
        expected = shape if batched else (shape[0], shape[2])
        check_dims(f"{module} {name} for {'batched 3-D' if batched else 'unbatched 2-D'} input", h, (len(expected),))
        if tuple(h.shape) != expected:
            raise RNNInputError(f"{module}: expected {name} of shape {expected}, got {tuple(h.shape)}")
        if h.dtype != dtype:
            raise RNNInputError(f"{module}: expected {name} of dtype {dtype}, got {h.dtype}")
        return h if batched else h.unsqueeze(1)

    def _format(self, output: Tensor, state, input, packing, batched: bool):
        """Back to the caller's layout: packed, batch-first or unbatched as the input was."""
        if packing is not None:
            return packing.pack(output, input), state
        if not batched:
            return output.squeeze(1), tuple(s.squeeze(1) for s in state)
        return (output.transpose(0, 1) if self.batch_first else output), state


class _Packing:
    """Where a PackedSequence's rows sit in a padded (time, batch) grid, in the original batch order.

    Working in the original order means a given initial state needs no permutation, and the final
    state comes out in the order torch.nn returns it.
    """

    def __init__(self, packed: PackedSequence) -> None:
        batch_sizes = packed.batch_sizes.tolist()
        device = packed.data.device
        self.time = torch.repeat_interleave(torch.arange(len(batch_sizes), device=device), packed.batch_sizes.to(device))
        rank = torch.cat([torch.arange(b, device=device) for b in batch_sizes])
        self.batch = rank if packed.sorted_indices is None else packed.sorted_indices[rank]
        self.shape = (len(batch_sizes), batch_sizes[0])
        self.mask = torch.zeros(*self.shape, 1, dtype=torch.bool, device=device).index_put(
            (self.time, self.batch), torch.tensor(True, device=device)
        )

    def pad(self, data: Tensor) -> Tensor:
        return data.new_zeros(*self.shape, data.shape[-1]).index_put((self.time, self.batch), data)

    def pack(self, padded: Tensor, like: PackedSequence) -> PackedSequence:
        return PackedSequence(padded[self.time, self.batch], like.batch_sizes, like.sorted_indices, like.unsorted_indices)

    def dropout(self, padded: Tensor, p: float) -> Tensor:
        """Dropout drawn on the packed rows, as torch.nn draws it, so the same seed gives the same mask."""
        return self.pad(F.dropout(padded[self.time, self.batch], p, True))


def _in_step_order(x: Tensor, reverse: bool) -> Tensor:
    """Time-major `x` in the order the loop visits the steps (the reverse direction starts at the end)."""
    return x.flip(0) if reverse else x


def _stack_trace(trace: list[tuple[Tensor, ...]], mask: Tensor | None) -> list[Tensor]:
    """Per-step tuples -> one (time, batch, hidden) tensor per name; padded steps become NaN."""
    stacked = [torch.stack(v) for v in zip(*trace)]
    return stacked if mask is None else [v.masked_fill(~mask, math.nan) for v in stacked]


def _param_name(kind: str, layer: int, direction: int) -> str:
    return f"{kind}_l{layer}{'_reverse' if direction == 1 else ''}"


def _as_tuple(hx, n: int, module: str) -> tuple:
    if n == 1:
        if not isinstance(hx, Tensor):
            raise TypeError(f"{module}: expected hx to be a Tensor, got {type(hx).__name__}")
        return (hx,)
    if not isinstance(hx, (tuple, list)) or len(hx) != n:
        raise TypeError(f"{module}: expected hx to be a pair (h_0, c_0), got {type(hx).__name__}")
    return tuple(hx)


def _check_config(input_size, hidden_size, num_layers, dropout, proj_size) -> None:
    """The constructor checks torch.nn makes, with messages that say what came."""
    check_size("input_size", input_size, minimum=0)
    check_size("hidden_size", hidden_size, minimum=1)
    check_size("num_layers", num_layers, minimum=1)
    check_size("proj_size", proj_size, minimum=0)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
        raise ValueError(f"expected dropout to be a probability in [0, 1], got {dropout!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"expected proj_size < hidden_size, got proj_size={proj_size} >= hidden_size={hidden_size}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"dropout={dropout} has no effect with num_layers=1: it applies between layers", UserWarning, stacklevel=3
        )


class RNN(_RNNBase):
    r"""Elman RNN over a sequence, a drop-in for `torch.nn.RNN`. Each step is `snippets.cells.rnn_step`:

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad \phi \in \{\tanh, \mathrm{ReLU}\}$$
    """

    num_gates = 1
    trace_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)

    def _step(self, xw, state, recurrent):
        weight_hh, bias_hh, _ = recurrent
        return (rnn_step(xw, state[0], weight_hh, bias_hh, self.nonlinearity),), ()


class LSTM(_RNNBase):
    r"""LSTM over a sequence, a drop-in for `torch.nn.LSTM`. Each step is `snippets.cells.lstm_step`:

    $$
    \begin{aligned}
    (i_t, f_t, g_t, o_t) &= (\sigma, \sigma, \tanh, \sigma)(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
    h_t &= o_t \odot \tanh(c_t) \quad \text{or, with a projection,} \quad h_t = W_{hr}\,(o_t \odot \tanh(c_t))
    \end{aligned}
    $$

    Traces (`return_gates=True`): `i`, `f`, `g`, `o`, and the states `h`, `c`.
    """

    mode = "LSTM"
    num_gates = 4
    trace_names = ("i", "f", "g", "o", "h", "c")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size, device, dtype
        )

    def _step(self, xw, state, recurrent):
        return lstm_step(xw, *state, *recurrent)

    def _has_bptt(self, recurrent) -> bool:
        # Not with a projection, nor in a subclass with another step function (snippets.variants).
        return recurrent[2] is None and type(self)._step is LSTM._step

    def _bptt_scan(self, x, state, projection, recurrent, reverse, record):
        (weight_ih, bias_ih), (weight_hh, bias_hh, _) = projection, recurrent
        # b_ih and b_hh add to the same pre-activation: fold both into the input projection.
        bias = None if bias_ih is None else bias_ih + bias_hh
        out, h, c, gates, cells = LSTMLayer.apply(_in_step_order(x, reverse), *state, weight_ih, weight_hh, bias)
        trace = [_in_step_order(v, reverse) for v in (*gates.chunk(4, dim=-1), out, cells)] if record else None
        return _in_step_order(out, reverse), (h, c), trace


class GRU(_RNNBase):
    r"""GRU over a sequence, a drop-in for `torch.nn.GRU`. Each step is `snippets.cells.gru_step`:

    $$
    \begin{aligned}
    (r_t, z_t) &= \sigma(W_{i\{r,z\}} x_t + b_{i\{r,z\}} + W_{h\{r,z\}} h_{t-1} + b_{h\{r,z\}}) \\
    n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    \end{aligned}
    $$

    Traces (`return_gates=True`): `r`, `z`, `n`, and the state `h`.
    """

    mode = "GRU"
    num_gates = 3
    trace_names = ("r", "z", "n", "h")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)

    def _step(self, xw, state, recurrent):
        weight_hh, bias_hh, _ = recurrent
        h, gates = gru_step(xw, state[0], weight_hh, bias_hh)
        return (h,), gates

    def _has_bptt(self, recurrent) -> bool:
        return type(self)._step is GRU._step  # not in a subclass with another step function

    def _bptt_scan(self, x, state, projection, recurrent, reverse, record):
        (weight_ih, bias_ih), (weight_hh, bias_hh, _) = projection, recurrent
        out, h, rz, n = GRULayer.apply(_in_step_order(x, reverse), state[0], weight_ih, weight_hh, bias_ih, bias_hh)
        trace = [_in_step_order(v, reverse) for v in (*rz.chunk(2, dim=-1), n, out)] if record else None
        return _in_step_order(out, reverse), (h,), trace
