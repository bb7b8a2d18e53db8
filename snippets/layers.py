r"""Sequence modules `RNN`, `LSTM`, `GRU`: drop-in replacements for their `torch.nn` namesakes.

Same constructor arguments, parameter names and shapes (so `load_state_dict` works both ways),
initialisation, forward signature and return values, including unbatched (2-D) input, a given or
omitted initial state, and `PackedSequence` input. One addition: `forward(..., return_gates=True)`
also returns every gate's activation at every time step, layer and direction.

The time loop is plain Python over the step functions of `snippets.cells`, differentiated by
`torch.autograd`: the code the pages show is the code that runs. The input projection
$W_{ih} x_t + b_{ih}$ of a layer is one matrix product over all time steps; the loop then walks the
`unbind(0)` views of it (indexing `xw[t]` instead would make the backward pass quadratic in T).
Faster twins of the LSTM and GRU loops are opt-in, behind one switch: `snippets.fast.use("bptt")`.
They register themselves here when `snippets.fast` is imported (`register_twins`): this module
imports nothing of them, and without them every call runs the step functions.

`forward(..., clamp=[...])` pins gate units to fixed values over a range of steps, the
intervention of the site's gate lab: `{"gate": "f", "unit": 3, "from": 5, "to": 20, "value": 1.0}`
sets unit 3 of the forget gate to 1 at steps 5 to 19 (input order, `to` excluded), before the gate
is used, so everything downstream is recomputed.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from snippets.cells import NONLINEARITIES, gru_step, lstm_step, rnn_step
from snippets.errors import RNNInputError, RNNTypeError, check_input, check_size, check_state, check_tensor
from snippets.sequence import for_input, time_major

TRACE_DIMS = ("layer", "direction", "time", "batch", "hidden")

# (step, step_args, tensors, record) -> a faster twin of one layer-direction's time loop, or None
TwinFinder = Callable[[Callable, tuple, tuple, bool], Callable | None]
_find_twin: TwinFinder | None = None  # set by `snippets.fast` when it is imported; None by default


def register_twins(find: TwinFinder | None) -> None:
    """Let `find` offer a twin for each layer-direction a sequence module runs (`snippets.fast` does).

    `find(step, step_args, tensors, record)` gets the step function, what it takes besides the input
    and the state, every tensor the layer reads (None for a missing bias) and whether traces are
    recorded; it returns a function with the signature of `_RNNBase._scan`'s replacement
    (`twin(x, state, projection, step_args, reverse, record)`), or None to run the step functions.
    One finder at a time: a later call replaces it; None removes it.
    """
    global _find_twin
    _find_twin = find


class _RNNBase(nn.Module):
    """Parameters, checks and the layer/direction/time loops shared by RNN, LSTM and GRU.

    A subclass names its step function (`step`), the gate blocks its weights stack (`gates`, in
    order) and its states (`states`); a variant of a cell differs from it by those alone.
    """

    mode: str  # torch.nn's name for the cell: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"
    step: Callable  # one time step: the equations, from snippets.cells or snippets.variants
    gates: tuple[str, ...] = ()  # gate blocks, in the order their weights are stacked
    states: tuple[str, ...] = ("h",)

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
        _check_config(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                self._add_layer_parameters(layer, direction, dict(device=device, dtype=dtype))
        self.reset_parameters()

    @property
    def num_gates(self) -> int:
        return max(len(self.gates), 1)  # the RNN has no gate but one weight block

    @property
    def trace_names(self) -> tuple[str, ...]:
        """The names of the traces `return_gates=True` returns: the gates, then the states."""
        return self.gates + self.states

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
    def _flat_weights(self) -> list[Tensor | None]:
        """The weights in torch.nn's order, as they are now (read by code written for torch.nn, such as
        `torch.nn.utils.weight_norm`'s users and PyTorch's own RNN tests): a parametrized or
        weight-normed weight appears as the tensor it computes, as in torch.nn."""
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def _all_weights(self) -> list[list[str]]:
        """torch.nn's names of the weights, one list per layer and direction."""
        per_layer = len(self._flat_weights_names) // (self.num_layers * self.num_directions)
        names = self._flat_weights_names
        return [names[k : k + per_layer] for k in range(0, len(names), per_layer)]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, layer: int, direction: int) -> tuple[tuple, tuple]:
        """(W_ih, b_ih) for the input projection, and what the step function takes after the state."""

        def get(kind: str) -> Tensor | None:
            return getattr(self, _param_name(kind, layer, direction), None)

        weight_hr = get("weight_hr")
        step_args = (get("weight_hh"), get("bias_hh")) + (() if weight_hr is None else (weight_hr,))
        return (get("weight_ih"), get("bias_ih")), step_args

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)
        for key, default in defaults.items():
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s

    # -- the computation -------------------------------------------------------------------

    def forward(self, input, hx=None, return_gates: bool = False, clamp: list[dict] | None = None):
        """As torch.nn's `forward`; `return_gates=True` also returns the traces, `clamp` pins gates.

        Each trace has dims `(layer, direction, time, batch, hidden)` (`TRACE_DIMS`), time in input
        order whatever `batch_first` says; unbatched input has batch size 1; the padded steps of a
        `PackedSequence` are NaN. Traces are part of the autograd graph, like the output.
        """
        x, packing, batched = self._time_major_input(input)
        state = self._initial_state(hx, x, batched)
        pins = _Pins(clamp, self, len(x)) if clamp else None
        output, state, traces = self._run(x, state, packing, return_gates, pins)
        output, state = self._format(output, state, input, packing, batched)
        hidden = state if len(state) > 1 else state[0]
        return (output, hidden, traces) if return_gates else (output, hidden)

    def _run(self, x: Tensor, state: tuple[Tensor, ...], packing: _Packing | None, record: bool, pins):
        """All layers and directions; returns the last layer's output, final states and traces."""
        finals, traces = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                projection, step_args = self._layer_weights(layer, direction)
                start = tuple(s[layer * self.num_directions + direction] for s in state)
                twin = None
                if _find_twin is not None and packing is None and pins is None:  # a twin has no masks, no clamps
                    twin = _find_twin(self.step, step_args, (x, *start, *projection, *step_args), record)
                if twin is not None:
                    out, final, trace = twin(x, start, projection, step_args, direction == 1, record)
                else:
                    xw = F.linear(x, *projection)
                    mask = None if packing is None else packing.mask
                    where = None if pins is None else pins.at(layer, direction)
                    out, final, trace = self._scan(xw, start, step_args, mask, direction == 1, record, where)
                outputs.append(out)
                finals.append(final)
                traces.append(trace)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True) if packing is None else packing.dropout(x, self.dropout)
        state = tuple(torch.stack(s) for s in zip(*finals))
        return x, state, self._collect(traces) if record else None

    def _scan(self, xw: Tensor, state, step_args, mask: Tensor | None, reverse: bool, record: bool, pins):
        """The time loop of one layer in one direction, one call of the step function per step.

        With `mask` (packed input), a sequence's state stops changing after its last step, and in
        the reverse direction it starts from the initial state at its own last step. `pins`, if
        given, maps a step to the clamp the step function applies there.
        """
        steps = xw.unbind(0)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        outputs, trace = [None] * len(steps), [None] * len(steps)
        for t in order:
            pin = None if pins is None else pins(t)
            new_state, gates = self._step(steps[t], state, step_args, {} if pin is None else {"clamp": pin})
            state = new_state if mask is None else tuple(torch.where(mask[t], n, s) for n, s in zip(new_state, state))
            outputs[t] = state[0]
            if record:
                trace[t] = gates + new_state
        return torch.stack(outputs), state, _stack_trace(trace, mask) if record else None

    def _step(self, xw: Tensor, state: tuple[Tensor, ...], step_args: tuple, clamp: dict):
        """One call of the step function: the new state, as a tuple, and the gates."""
        new_state, gates = self.step(xw, *state, *step_args, **clamp)
        return (new_state if isinstance(new_state, tuple) else (new_state,)), gates

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
        name, dtype = type(self).__name__, self.weight_ih_l0.dtype
        if isinstance(input, PackedSequence):
            check_input(name, input.data, (2,), self.input_size, dtype, "packed input data")
            packing = _Packing(input)
            return packing.pad(input.data), packing, True
        x, batched = time_major(name, input, self.input_size, dtype, self.batch_first)
        return x, None, batched

    def _state_shapes(self, batch: int) -> dict[str, tuple[int, int, int]]:
        layers = self.num_layers * self.num_directions
        sizes = {"h": self.real_hidden_size, "c": self.hidden_size}
        return {f"{name}_0": (layers, batch, sizes[name]) for name in self.states}

    def _initial_state(self, hx, x: Tensor, batched: bool) -> tuple[Tensor, ...]:
        """The given initial state, checked and made 3-D, or zeros."""
        shapes = self._state_shapes(x.shape[1])
        if hx is None:
            return tuple(x.new_zeros(shape) for shape in shapes.values())
        given = _as_tuple(hx, len(shapes), type(self).__name__)
        return tuple(self._check_state(h, n, s, batched, x.dtype) for h, (n, s) in zip(given, shapes.items()))

    def _check_state(self, h: Tensor, name: str, shape: tuple, batched: bool, dtype) -> Tensor:
        expected = shape if batched else (shape[0], shape[2])
        check_state(type(self).__name__, name, h, expected, dtype, for_input(batched))
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
        self.time = torch.repeat_interleave(
            torch.arange(len(batch_sizes), device=device), packed.batch_sizes.to(device)
        )
        rank = torch.cat([torch.arange(b, device=device) for b in batch_sizes])
        self.batch = rank if packed.sorted_indices is None else packed.sorted_indices[rank]
        self.shape = (len(batch_sizes), batch_sizes[0])
        self.mask = torch.zeros(*self.shape, 1, dtype=torch.bool, device=device).index_put(
            (self.time, self.batch), torch.tensor(True, device=device)
        )

    def pad(self, data: Tensor) -> Tensor:
        return data.new_zeros(*self.shape, data.shape[-1]).index_put((self.time, self.batch), data)

    def pack(self, padded: Tensor, like: PackedSequence) -> PackedSequence:
        return PackedSequence(
            padded[self.time, self.batch], like.batch_sizes, like.sorted_indices, like.unsorted_indices
        )

    def dropout(self, padded: Tensor, p: float) -> Tensor:
        """Dropout drawn on the packed rows, as torch.nn draws it, so the same seed gives the same mask."""
        return self.pad(F.dropout(padded[self.time, self.batch], p, True))


class _Pins:
    """The checked `clamp=` list of one call, as the clamp function a step receives at each step.

    The step function calls `clamp(name, value)` on each gate it computes; gates with no pin at
    that step come back unchanged, pinned units take their value (`torch.where`, so the gradient
    of the other units flows as before).
    """

    FIELDS = ("gate", "unit", "from", "to", "value")
    OPTIONAL = ("layer", "direction")  # default 0: the first layer, the forward direction

    def __init__(self, clamps: list[dict], module: _RNNBase, steps: int) -> None:
        name = type(module).__name__
        if "clamp" not in _parameters(module.step):
            raise RNNInputError(
                f"{name}: clamp= needs a step function that takes clamp, like lstm_step and "
                f"gru_step; {module.step.__name__} does not"
            )
        self.pins: dict[tuple[int, int, int], dict[str, tuple[Tensor, float]]] = {}
        for pin in clamps:
            gate, unit, first, stop, value, layer, direction = _check_pin(pin, module, steps)
            for t in range(first, stop):
                self.pins.setdefault((layer, direction, t), {}).setdefault(gate, []).append((unit, value))

    def at(self, layer: int, direction: int):
        """The function of a step `t` that the scan of this layer-direction calls: a clamp or None."""

        def pins(t: int):
            found = self.pins.get((layer, direction, t))
            return None if found is None else functools.partial(_pin, found)

        return pins


def _pin(found: dict, name: str, value: Tensor) -> Tensor:
    """`value` (batch, hidden) with the pinned units of gate `name` set to their values."""
    for unit, pinned in found.get(name, ()):
        mask = torch.zeros(value.shape[-1], dtype=torch.bool, device=value.device)
        mask[unit] = True
        value = torch.where(mask, torch.tensor(pinned, dtype=value.dtype, device=value.device), value)
    return value


def _check_pin(pin, module: _RNNBase, steps: int) -> tuple:
    """One clamp, checked: (gate, unit, from, to, value, layer, direction), or a clear error."""
    name = type(module).__name__
    if not isinstance(pin, dict) or not set(_Pins.FIELDS) <= pin.keys():
        raise RNNInputError(
            f"{name}: expected each clamp to be a dict with keys {_Pins.FIELDS} "
            f"(and optionally layer, direction), got {pin!r}"
        )
    unknown = [key for key in pin if key not in _Pins.FIELDS + _Pins.OPTIONAL]
    if unknown:  # a misspelt "layer" would otherwise pin layer 0 without a word
        raise RNNInputError(
            f"{name}: unknown clamp key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"expected the keys {_Pins.FIELDS} and optionally {_Pins.OPTIONAL}, got {pin!r}"
        )
    gate, unit, first, stop, value = (pin[k] for k in _Pins.FIELDS)
    layer, direction = pin.get("layer", 0), pin.get("direction", 0)
    if gate not in module.gates:
        raise RNNInputError(f"{name}: expected a clamp's gate to be one of {module.gates}, got {gate!r}")
    for key, number, limit in (
        ("unit", unit, module.hidden_size),
        ("layer", layer, module.num_layers),
        ("direction", direction, module.num_directions),
    ):
        if isinstance(number, bool) or not isinstance(number, numbers.Integral) or not 0 <= number < limit:
            raise RNNInputError(f"{name}: expected a clamp's {key} to be an int in [0, {limit}), got {number!r}")
    for key, number in (("from", first), ("to", stop)):
        if isinstance(number, bool) or not isinstance(number, numbers.Integral) or not 0 <= number <= steps:
            raise RNNInputError(f"{name}: expected a clamp's {key!r} to be a step in [0, {steps}], got {number!r}")
    if first >= stop:
        raise RNNInputError(f"{name}: expected a clamp's 'from' < 'to' (steps from..to-1), got {first} and {stop}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise RNNInputError(f"{name}: expected a clamp's value to be a finite number, got {value!r}")
    return gate, int(unit), int(first), int(stop), float(value), int(layer), int(direction)


@functools.cache
def _parameters(step: Callable) -> tuple[str, ...]:
    return tuple(inspect.signature(step).parameters)


def _stack_trace(trace: list[tuple[Tensor, ...]], mask: Tensor | None) -> list[Tensor]:
    """Per-step tuples -> one (time, batch, hidden) tensor per name; padded steps become NaN."""
    stacked = [torch.stack(v) for v in zip(*trace)]
    return stacked if mask is None else [v.masked_fill(~mask, math.nan) for v in stacked]


def _param_name(kind: str, layer: int, direction: int) -> str:
    return f"{kind}_l{layer}{'_reverse' if direction == 1 else ''}"


def _as_tuple(hx, n: int, module: str) -> tuple:
    """The given initial state as a tuple of its `n` tensors (not yet checked)."""
    if n == 1:
        check_tensor(f"{module} hx", hx)
        return (hx,)
    if not isinstance(hx, (tuple, list)) or len(hx) != n:
        got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) else type(hx).__name__
        raise RNNTypeError(f"{module}: expected hx to be a pair (h_0, c_0), got {got} (lstm expects two hidden states)")
    return tuple(hx)


def _check_config(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size) -> None:
    """The constructor checks torch.nn makes, with messages that say what came."""
    check_size("input_size", input_size, minimum=1)
    check_size("hidden_size", hidden_size, minimum=1)
    check_size("num_layers", num_layers, minimum=1)
    check_size("proj_size", proj_size, minimum=0)
    for name, flag in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
        if not isinstance(flag, bool):
            raise TypeError(f"expected {name} to be a bool, got {type(flag).__name__} {flag!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
        raise ValueError(f"expected dropout to be a probability in [0, 1], got {dropout!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"expected proj_size < hidden_size, got proj_size={proj_size} >= hidden_size={hidden_size}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"dropout={dropout} has no effect with num_layers=1: it applies between layers", UserWarning, stacklevel=3
        )


_ARGS = """
    **Args** (as `torch.nn`'s)

    - `input_size`: features of the input $x_t$.
    - `hidden_size`: features of the hidden state $h_t${cell}.
    - `num_layers`: stacked layers; layer $k > 1$ reads the output of layer $k - 1$.
    {extra}- `bias`: whether the layers have the biases $b_{{ih}}$, $b_{{hh}}$.
    - `batch_first`: input and output as (batch, time, features) instead of (time, batch, features).
    - `dropout`: dropout on the output of every layer but the last, in training.
    - `bidirectional`: a second direction per layer, reading the sequence backwards; outputs concatenated.
    {projection}- `device`, `dtype`: of the parameters.

    **Inputs**: `forward(input, hx=None, return_gates=False, clamp=None)`

    - `input`: (T, B, input_size); (B, T, input_size) with `batch_first`; (T, input_size) unbatched;
      or a `PackedSequence`.
    - `hx`: {hx} zeros if not given.
    - `return_gates`: also return the traces.
    - `clamp`: {clamp}

    **Outputs**: `output, {h_n}`, and `traces` with `return_gates=True`

    - `output`: (T, B, D * {out}), batch first or unbatched as the input was: the last layer's $h_t$
      at every step; D = 2 if bidirectional, else 1.
    - `{h_n}`: {h_n_shape}
    - `traces`: a dict of tensors of shape (num_layers, D, T, B, hidden), in input time order, for {names}.
"""


_CLAMP = """gates to pin, a list of dicts such as
      `{{"gate": "{gate}", "unit": 3, "from": 5, "to": 20, "value": 1.0}}`: unit 3 of that gate is 1.0 at
      steps 5 to 19 (input order, `to` excluded), set before the gate is used, so everything after it
      is recomputed; `"layer"` and `"direction"` are optional (default 0). Gates: {gates}."""
_NO_CLAMP = "not taken: the RNN has no gate to pin (`clamp=` raises `RNNInputError`)."


def _arguments(names: str, nonlinearity: bool = False, lstm: bool = False, gates: tuple = (), pin: str = "") -> str:
    """The Args, Inputs and Outputs of a sequence module's docstring; `names` lists its traces,
    `gates` the gates `clamp` may pin (none: the RNN), `pin` the one its example pins."""
    clamp = _CLAMP.format(gates=", ".join(f"`{g}`" for g in gates), gate=pin) if gates else _NO_CLAMP
    if lstm:
        return _ARGS.format(
            cell=" (and of the cell state $c_t$)",
            clamp=clamp,
            extra="",
            projection="- `proj_size`: if > 0, $h_t$ is projected to this size by $W_{hr}$.\n    ",
            hx="the pair $(h_0, c_0)$, each (num_layers * D, B, size): proj_size (or hidden_size) for $h$;",
            h_n="(h_n, c_n)",
            out="(proj_size or hidden_size)",
            h_n_shape="the final $h$ and $c$ of every layer and direction, shaped like `hx`.",
            names=names,
        )
    return _ARGS.format(
        cell="",
        clamp=clamp,
        extra='- `nonlinearity`: `"tanh"` or `"relu"`.\n    ' if nonlinearity else "",
        projection="",
        hx="$h_0$, (num_layers * D, B, hidden_size), or 2-D for unbatched input;",
        h_n="h_n",
        out="hidden_size",
        h_n_shape="the final $h$ of every layer and direction, shaped like `hx`.",
        names=names,
    )


def _refuse_projection(module: str, proj_size) -> None:
    """torch.nn's RNN and GRU take a `proj_size` keyword only to refuse it, with a ValueError."""
    if proj_size is not _NO_PROJECTION:
        raise ValueError(
            f"{module}: proj_size argument is only supported for LSTM, not RNN or GRU: {module} has no "
            f"projection (got proj_size={proj_size!r})"
        )


_NO_PROJECTION = object()  # proj_size not given: torch.nn refuses any value, 0 included


class _NoProjection(_RNNBase):
    """torch.nn's constructor for the cells that have no projection (GRU, and the LSTM variants)."""

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
        *,
        proj_size=_NO_PROJECTION,
    ) -> None:
        _refuse_projection(type(self).__name__, proj_size)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )


class RNN(_RNNBase):
    __doc__ = r"""Elman RNN over a sequence, a drop-in for `torch.nn.RNN`. Each step is `snippets.cells.rnn_step`:

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad \phi \in \{\tanh, \mathrm{ReLU}\}$$
    """ + _arguments("`h`", nonlinearity=True)

    states = ("h",)

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
        *,
        proj_size=_NO_PROJECTION,
    ) -> None:
        _refuse_projection(type(self).__name__, proj_size)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    step = staticmethod(rnn_step)

    def _step(self, xw, state, step_args, clamp):
        return (self.step(xw, *state, *step_args, self.nonlinearity),), ()


class LSTM(_RNNBase):
    __doc__ = r"""LSTM over a sequence, a drop-in for `torch.nn.LSTM`. Each step is `snippets.cells.lstm_step`:

    $$
    \begin{aligned}
    (i_t, f_t, g_t, o_t) &= (\sigma, \sigma, \tanh, \sigma)(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
    h_t &= o_t \odot \tanh(c_t) \quad \text{or, with a projection,} \quad h_t = W_{hr}\,(o_t \odot \tanh(c_t))
    \end{aligned}
    $$
    """ + _arguments(
        "the gates `i`, `f`, `g`, `o` and the states `h`, `c`", lstm=True, gates=("i", "f", "g", "o"), pin="f"
    )

    mode = "LSTM"
    step = staticmethod(lstm_step)
    gates = ("i", "f", "g", "o")
    states = ("h", "c")


class GRU(_NoProjection):
    __doc__ = r"""GRU over a sequence, a drop-in for `torch.nn.GRU`. Each step is `snippets.cells.gru_step`:

    $$
    \begin{aligned}
    (r_t, z_t) &= \sigma(W_{i\{r,z\}} x_t + b_{i\{r,z\}} + W_{h\{r,z\}} h_{t-1} + b_{h\{r,z\}}) \\
    n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    \end{aligned}
    $$
    """ + _arguments("the gates `r`, `z`, `n` and the state `h`", gates=("r", "z", "n"), pin="z")

    mode = "GRU"
    step = staticmethod(gru_step)
    gates = ("r", "z", "n")
