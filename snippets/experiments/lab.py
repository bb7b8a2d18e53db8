r"""The gate lab's models: trained weights exported for the reader's browser, and what clamping
their gates does.

The lab (docs/gate-lab.md) runs three trained models in the browser: the character model of the
real-text page (experiment `text_model`) and the recall LSTM and GRU (experiment `recall`). This
module

- reads their weights from those experiments' results (`source_models`: the one place that knows
  where and how they are stored);
- rounds every tensor to a multiple of a power of two (`quantize`), so that the weights download
  small and every value is exactly the same number in float32 (PyTorch) and float64 (JavaScript);
- runs the lab's guided experiments on the *exported* weights, with the package's `clamp=` hook
  (`snippets.LSTM`, `snippets.GRU`), for the numbers the page prints and the claims its build
  checks (`snippets.figures.gate_lab`).

A clamp is `{"gate", "unit", "from", "to", "value"}`: unit `unit` of gate `gate` is pinned to
`value` at steps `from` to `to - 1` (input order). The recall task's steps are the subject (step
0), `gap` distractors (steps 1 to `gap`) and the query (step `gap + 1`), so "over the gap" is
`from = 1, to = gap + 1`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import interpret, seeding, tasks, train
from . import pool
from .cache import experiment
from .real_text import TextUnitsConfig, text_model, text_units, validation_texts
from .training import RecallConfig, recall

FORMAT = "snippets gate lab weights, version 1"
GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
LAYER_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
READOUT_KEYS = ("readout.weight", "readout.bias")


@dataclass(frozen=True)
class GateLabConfig:
    """What the lab exports and measures.

    `resolution`: each tensor is rounded to a multiple of the largest power of two that is at most
    its standard deviation divided by `resolution`; `weight_ih_l0` by `input_resolution`. The inputs
    are one-hot, so a step reads one column of `weight_ih_l0` and its rounding enters each
    pre-activation once, where `weight_hh_l0`'s enters summed over every unit. Measured on one trained
    character model: 8 throughout gzips to 121 KB at +0.003 bits per character; 4 for the input
    weights to 113 KB at +0.009; 4 for the recurrent weights instead, 111 KB at +0.013; 6
    throughout, 104 KB at +0.021. `min_accuracy`: the recall models are the
    stored runs at the longest gap where they reached it (the LSTM page's rule). The recall
    experiments run `n_sequences` validation sequences at the models' gap times each of
    `gap_factors`; the string experiment runs up to `max_lines` lines of the validation files
    (their first `max_chars` characters, as the real-text page searches them), each line alone.
    """

    text: TextUnitsConfig = TextUnitsConfig()
    recall: RecallConfig = RecallConfig()
    resolution: int = 8
    input_resolution: int = 4
    min_accuracy: float = 0.9
    n_units: int = 3
    n_sequences: int = 1024
    gap_factors: tuple = (1, 2, 4)
    max_lines: int = 120
    max_line_chars: int = 72
    min_string_chars: int = 4
    char_presets: tuple = field(
        default=(
            "def forward(self, input):\n    return self.linear(input)\n",
            'raise ValueError("expected a tensor")\n',
        )
    )


# --------------------------------------------------------------------------------------
# The models and their export
# --------------------------------------------------------------------------------------


def source_models(config: GateLabConfig = GateLabConfig()) -> dict[str, dict]:
    """The trained models the lab shows, read from the experiments' results.

    The one function that knows how those results store weights: `text_model()["state_dict"]`
    and `recall()["state_dicts"][cell][str(gap)]`, each a `train.SequenceModel` state dict
    (`rnn.weight_ih_l0`, ..., `readout.weight`, `readout.bias`). Returns, per model name,
    `cell`, `state_dict`, `vocab` (input token labels), `outputs` (read-out labels) and, for the
    recall models, `gap`.
    """
    text = text_model(config.text.model)
    result = recall(config.recall)
    labels = recall_labels(tasks.Recall())
    models = {"char": {"cell": "lstm", "state_dict": text["state_dict"], "vocab": list(text["vocab"])}}
    models["char"]["outputs"] = models["char"]["vocab"]
    for cell, model in RECALL_MODELS.items():
        gap = stored_gap(result, model, config.min_accuracy)
        models[f"recall-{cell}"] = {
            "cell": cell,
            "state_dict": result["state_dicts"][model][str(gap)],
            "vocab": labels["inputs"],
            "outputs": labels["outputs"],
            "gap": gap,
        }
    return models


# The recall experiment's model behind each cell's gate-lab model: the LSTM with forget bias 3, the
# one that learns the longer gaps (at the default bias and at 1 it mostly stays at chance from gap 20).
RECALL_MODELS = {"lstm": "lstm_fb3", "gru": "gru"}


def stored_gap(result: dict, cell: str, min_accuracy: float = 0.9) -> int:
    """The longest gap at which `recall`'s stored run of model `cell` (its first seed) reached `min_accuracy`.

    The rule of the LSTM page (`snippets.figures.lstm.recall_gap`; a test holds the two equal).
    """
    stored = result.get("state_dicts", {}).get(cell, {})
    solved = [
        gap
        for gap, accs in zip(result["gaps"], result["cells"][cell]["accuracy"])
        if str(gap) in stored and accs[0] >= min_accuracy
    ]
    if not solved:
        raise ValueError(f"stored_gap: no stored {cell} run reached accuracy {min_accuracy} at any gap")
    return max(solved)


def recall_labels(task: tasks.Recall) -> dict[str, list[str]]:
    """Letters for the recall task's tokens: subjects A, B, ...; fillers a, b, ...; the query `?`."""
    if task.n_subjects > 26 or task.n_distractors > 26:
        raise ValueError(f"recall_labels: at most 26 subjects and fillers, got {task.n_subjects}, {task.n_distractors}")
    subjects = [chr(ord("A") + k) for k in range(task.n_subjects)]
    fillers = [chr(ord("a") + k) for k in range(task.n_distractors)]
    return {"inputs": subjects + fillers + ["?"], "outputs": subjects}


def quantize(weight: Tensor, resolution: int) -> tuple[Tensor, float]:
    r"""`weight` rounded to a multiple of a power of two: integers $q$ and the scale $s$, $w \approx s q$,

    $$s = 2^{\lfloor \log_2(\sigma / r) \rfloor}$$

    with $\sigma$ the tensor's standard deviation (its largest $|w|$ if that is 0) and $r$ the
    `resolution`. A power of two times an integer below $2^{24}$ is exact in float32 and float64.
    """
    w = weight.detach().double().flatten()
    spread = float(w.std()) if w.numel() > 1 else 0.0
    spread = spread if spread > 0 else float(w.abs().max()) if w.numel() else 0.0
    scale = 2.0 ** math.floor(math.log2(spread / resolution)) if spread > 0 else 1.0
    q = torch.round(w / scale).long()
    if q.abs().max() >= 2**24:
        raise ValueError(f"quantize: |w| / scale reaches {int(q.abs().max())}, beyond float32's exact integers")
    return q.reshape(weight.shape), scale


def export_model(name: str, model: dict, resolution: int, input_resolution: int | None = None) -> dict:
    """One model as the JSON the page publishes: sizes, labels, and each tensor as integers and a scale.

    `state_dict` maps the layer's own names (`weight_ih_l0`, ...: `torch.nn.LSTM`/`GRU`'s) and the
    read-out's (`readout.weight`, `readout.bias`: a `torch.nn.Linear`'s, prefixed) to
    `{"shape", "scale", "values"}`, the values row-major: the tensor is
    `torch.tensor(values, dtype=torch.float32).reshape(shape) * scale` (`load_state_dict`).
    `quantize` rounds each tensor at `resolution`, `weight_ih_l0` at `input_resolution` (default: the same).
    """
    sd = model["state_dict"]
    hidden = sd["rnn.weight_hh_l0"].shape[1]
    tensors = {}
    for key in LAYER_KEYS + READOUT_KEYS:
        r = input_resolution if key == "weight_ih_l0" and input_resolution else resolution
        q, scale = quantize(sd[key if key.startswith("readout.") else f"rnn.{key}"], r)
        tensors[key] = {"shape": list(q.shape), "scale": scale, "values": q.flatten().tolist()}
    return {
        "format": FORMAT,
        "name": name,
        "cell": model["cell"],
        "gates": list(GATES[model["cell"]]),
        "input_size": int(sd["rnn.weight_ih_l0"].shape[1]),
        "hidden_size": int(hidden),
        "output_size": int(sd["readout.weight"].shape[0]),
        "vocab": list(model["vocab"]),
        "outputs": list(model["outputs"]),
        "state_dict": tensors,
    }


def load_state_dict(exported: dict) -> dict[str, Tensor]:
    """The float32 tensors of an exported model (parsed JSON or `export_model`'s dict), by name."""
    if exported.get("format") != FORMAT:
        raise ValueError(f"load_state_dict: expected format {FORMAT!r}, got {exported.get('format')!r}")
    return {
        key: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"]) * t["scale"]
        for key, t in exported["state_dict"].items()
    }


def sequence_state_dict(exported: dict) -> dict[str, Tensor]:
    """An exported model as a `train.SequenceModel` state dict (`rnn.` before the layer's names)."""
    return {(k if k.startswith("readout.") else f"rnn.{k}"): v for k, v in load_state_dict(exported).items()}


class Lab:
    """An exported model in the package's own layer (`snippets.LSTM`/`GRU`), run with clamps."""

    def __init__(self, exported: dict) -> None:
        sd = sequence_state_dict(exported)
        self.layer = train.traceable_layer(sd)
        self.readout = sd["readout.weight"], sd["readout.bias"]
        self.vocab, self.outputs, self.size = exported["vocab"], exported["outputs"], exported["input_size"]

    @torch.no_grad()
    def run(self, ids, clamp: list[dict] | None = None, traces: bool = False):
        """Read-out logits (batch, T, outputs) for token ids (batch, T) or (T,), and the traces if asked."""
        ids = torch.as_tensor(ids)
        x = F.one_hot(ids if ids.dim() == 2 else ids[None], self.size).float()
        out, _, trace = self.layer(x, return_gates=True, clamp=clamp or None)
        logits = F.linear(out, *self.readout)
        return (logits, {k: v[0, 0] for k, v in trace.items()}) if traces else logits

    def encode(self, text: str) -> list[int]:
        index = {ch: k for k, ch in enumerate(self.vocab)}
        return [index.get(ch, 0) for ch in text]


# --------------------------------------------------------------------------------------
# The units the pages single out
# --------------------------------------------------------------------------------------


def char_units(units_result: dict, n_units: int) -> dict:
    """The real-text page's units: the best unit per feature, and the distinct units among the
    `n_units` best traces for being inside a string (the "string units")."""
    best = [
        {"unit": u["unit"], "feature": u["feature"], "trace": u["trace"], "correlation": u["correlation"]}
        for u in units_result["trained"]["best"]
    ]
    string = []
    for u in units_result["trained"]["ranked"]["in_string"][:n_units]:
        if u["unit"] not in string:
            string.append(u["unit"])
    return {"best": best, "string": string}


@torch.no_grad()
def recall_units(state_dict: dict, cell: str, gap: int, n_units: int) -> list[int]:
    """The units that carry the subject: `interpret.carrying_units` at the query step, on the
    cell state for the LSTM (the LSTM page's choice) and on the hidden state for the GRU (its only
    state), over the validation sequences `interpret.recall_traces` uses."""
    if cell == "lstm":
        traces = interpret.recall_traces(state_dict, gap)
        return interpret.carrying_units(traces["c"][-1], traces["subject"], n_units)
    layer = train.traceable_layer(state_dict)
    x, subject = tasks.Recall(gap=gap).sample(1024, seeding.data_generator(0, stream=1))
    _, h = layer(x)
    return interpret.carrying_units(h[0].numpy(), subject.numpy(), n_units)


# --------------------------------------------------------------------------------------
# Guided experiment: the string units
# --------------------------------------------------------------------------------------


def string_lines(texts: list[str], in_string: list[Tensor], config: GateLabConfig) -> list[dict]:
    """Lines of `texts` holding a one-line string literal: the line, and where its quotes are.

    Per line, the first run of `in_string` characters that opens and closes with the same quote
    (' or "), holds at least `min_string_chars` characters between them and is not triple-quoted;
    lines of at most `max_line_chars` characters, at most `max_lines` of them, in file order.
    """
    found = []
    for text, mask in zip(texts, in_string):
        start = 0
        for line in text.splitlines(keepends=True):
            span = _first_string(line, mask[start : start + len(line)], config.min_string_chars)
            if span and len(line) <= config.max_line_chars and line.endswith("\n"):
                found.append({"line": line, "open": span[0], "close": span[1]})
            start += len(line)
    return found[: config.max_lines]


def _first_string(line: str, mask: Tensor, min_chars: int) -> tuple[int, int] | None:
    t = 0
    while t < len(line):
        if mask[t] > 0:
            a = t
            while t < len(line) and mask[t] > 0:
                t += 1
            b = t - 1  # the closing quote
            quote = line[a]
            if quote in "'\"" and line[b] == quote and b - a - 1 >= min_chars and line[a + 1] != quote:
                return a, b
        t += 1
    return None


def string_experiment(lab: Lab, lines: list[dict], groups: dict[str, list[int]]) -> dict:
    """Bits the model spends on each line's closing quote, free and with the forget gate of one unit
    (every unit in turn) or of a group of units pinned to 0 on the whole line.

    At step t the model has read character t and predicts character t + 1: the closing quote at
    position b is predicted at step b - 1. The lines run as one batch from a zero state, padded at
    their end (which no earlier prediction sees), so one clamp over all steps is the same
    intervention on every line as a clamp over the whole line. Returns per-line bits (`free`, `by_unit` (unit, line),
    `groups` {name: per line}) and `cause`, the unit whose clamp raises the mean the most.
    """
    # Each line up to its closing quote: the predictions read here never see what follows.
    ids = [lab.encode(item["line"][: item["close"]]) for item in lines]
    batch = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for row, i in enumerate(ids):
        batch[row, : len(i)] = torch.tensor(i)
    rows = torch.arange(len(lines))
    steps = torch.tensor([item["close"] - 1 for item in lines])
    targets = torch.tensor([lab.outputs.index(item["line"][item["close"]]) for item in lines])

    def bits(units) -> Tensor:
        clamp = [{"gate": "f", "unit": int(u), "from": 0, "to": batch.shape[1], "value": 0.0} for u in units]
        logp = torch.log_softmax(lab.run(batch, clamp)[rows, steps], -1)
        return -logp[rows, targets] / math.log(2)

    free = bits([])
    by_unit = torch.stack([bits([u]) for u in range(lab.layer.hidden_size)])
    cause = int((by_unit - free).mean(1).argmax())
    return {
        "free": free.tolist(),
        "by_unit": by_unit.tolist(),
        "groups": {name: bits(units).tolist() for name, units in groups.items()},
        "cause": cause,
    }


def string_summary(result: dict, lines: list[dict], units: dict[str, int]) -> dict:
    """Means and shares of `string_experiment`'s bits for the named units, and the preset line: the
    one whose closing quote the free model expects most."""
    free = np.array(result["free"])
    by_unit = np.array(result["by_unit"])
    effect = (by_unit - free).mean(1)
    rank = {u: int((effect > effect[u]).sum()) + 1 for u in range(len(effect))}  # 1: the largest rise
    top = int(free.argmin())
    out = {"lines": len(lines), "free_bits": float(free.mean()), "cause": result["cause"], "units": {}}
    for name, unit in units.items():
        clamped = by_unit[unit]
        out["units"][name] = {
            "unit": unit,
            "bits": float(clamped.mean()),
            "rise": float(effect[unit]),
            "share_worse": float((clamped > free).mean()),
            "rank": rank[unit],
            "preset_bits": float(clamped[top]),
        }
    for name, values in result["groups"].items():
        clamped = np.array(values)
        out["units"][name] = {
            "bits": float(clamped.mean()),
            "rise": float(clamped.mean() - free.mean()),
            "share_worse": float((clamped > free).mean()),
            "preset_bits": float(clamped[top]),
        }
    out["preset"] = {**lines[top], "free_bits": float(free[top])}
    return out


# --------------------------------------------------------------------------------------
# Guided experiments: the recall models
# --------------------------------------------------------------------------------------


def over_gap(gate: str, units, value: float, gap: int) -> list[dict]:
    """Clamps pinning `gate` of `units` to `value` over the distractors (steps 1 to `gap`)."""
    return [{"gate": gate, "unit": int(u), "from": 1, "to": gap + 1, "value": value} for u in units]


def at_step(gate: str, units, value: float, step: int) -> list[dict]:
    return [{"gate": gate, "unit": int(u), "from": step, "to": step + 1, "value": value} for u in units]


def wipe(units, step: int = 1) -> list[dict]:
    r"""Clamps that wipe an LSTM's memory at `step`: every forget gate and every input gate of `units` at 0.

    $$c_t = f_t \odot c_{t-1} + i_t \odot g_t = 0, \qquad h_t = o_t \odot \tanh(c_t) = 0$$

    With every unit wiped, the state after `step` is the zero state the model starts from, whatever
    it read before: at step 1, right after the subject, the answer at the query can no longer depend
    on the subject, on any trained network.
    """
    return at_step("i", units, 0.0, step) + at_step("f", units, 0.0, step)


def recall_sequences(gap: int, n: int) -> tuple[Tensor, Tensor]:
    """The validation sequences of the recall task at `gap` (token ids) and their subjects.

    Drawn from the validation stream of seed 0 (`seeding.data_generator(0, stream=1)`), as
    `interpret.recall_traces` draws them: the subjects come first, so every gap asks about the
    same subjects."""
    x, subject = tasks.Recall(gap=gap).sample(n, seeding.data_generator(0, stream=1))
    return x.argmax(-1), subject


def recall_accuracy(lab: Lab, gap: int, clamp: list[dict], n: int) -> float:
    ids, subject = recall_sequences(gap, n)
    return float((lab.run(ids, clamp)[:, -1].argmax(-1) == subject).float().mean())


def recall_experiments(lab: Lab, cell: str, gap: int, units: list[int], config: GateLabConfig) -> dict:
    """Validation accuracy, free and clamped, at the model's gap times each of `gap_factors`."""
    hidden = lab.layer.hidden_size
    every = range(hidden)
    if cell == "lstm":
        clamps = {
            "free": lambda g: [],
            "input_closed": lambda g: over_gap("i", every, 0.0, g),
            "latch": lambda g: over_gap("i", every, 0.0, g) + over_gap("f", every, 1.0, g),
            "output_closed": lambda g: over_gap("o", every, 0.0, g),
            "carrying_forget": lambda g: over_gap("f", units, 0.0, g),
            "wiped": lambda g: wipe(every),
        }
    else:
        clamps = {
            "free": lambda g: [],
            "frozen": lambda g: over_gap("z", every, 1.0, g),
            "replaced": lambda g: at_step("z", every, 0.0, 1),
            "carrying_replaced": lambda g: at_step("z", units, 0.0, 1),
        }
    gaps = [gap * k for k in config.gap_factors]
    out = {"gaps": gaps, "accuracy": {}, "state": state_changes(lab, cell, gap, config.n_sequences)}
    for name, make in clamps.items():
        out["accuracy"][name] = [recall_accuracy(lab, g, make(g), config.n_sequences) for g in gaps]
    return out


def state_changes(lab: Lab, cell: str, gap: int, n: int) -> dict[str, float]:
    r"""What the clamps do to the state over the gap, on the validation sequences at the model's gap:
    the largest growth of any $|c|$ from one step to the next with every input gate at 0
    (`input_closed_growth`), and the largest change of $c$ with the input gates at 0 and the forget
    gates at 1 (`latch_change`), for the LSTM; the largest change of $h$ with every update gate at 1
    (`frozen_change`), for the GRU. Steps 1 to `gap`, each against the step before."""
    ids, _ = recall_sequences(gap, n)
    every = range(lab.layer.hidden_size)

    def change(clamp: list[dict], key: str, growth: bool) -> float:
        _, traces = lab.run(ids, clamp, traces=True)
        state = traces[key][: gap + 1]  # steps 0 (the subject) to gap (the last distractor)
        step = state[1:].abs() - state[:-1].abs() if growth else (state[1:] - state[:-1]).abs()
        return float(step.max())

    if cell == "lstm":
        return {
            "input_closed_growth": change(over_gap("i", every, 0.0, gap), "c", True),
            "latch_change": change(over_gap("i", every, 0.0, gap) + over_gap("f", every, 1.0, gap), "c", False),
        }
    return {"frozen_change": change(over_gap("z", every, 1.0, gap), "h", False)}


def recall_presets(lab: Lab, gap: int, config: GateLabConfig) -> list[dict]:
    """Example inputs: the first validation sequence at each of the gaps, as text."""
    presets = []
    for k in config.gap_factors:
        ids, subject = recall_sequences(gap * k, 1)
        presets.append({"gap": gap * k, "text": "".join(lab.vocab[i] for i in ids[0].tolist())})
    return presets


# --------------------------------------------------------------------------------------
# The guided experiments as the page sets them up
# --------------------------------------------------------------------------------------


def answer_changing_example(lab: Lab, clamp: list[dict], presets: list[dict], gap: int, n: int) -> tuple[int, list]:
    """The example a set-up shows its effect on: the first sequence at `gap` whose subject the free model
    names at the query and the model with `clamp` does not, among `presets` first, then among the `n`
    validation sequences. Returns its index in the presets, and the presets (with the sequence added,
    labelled, when it is not one of them).

    A clamp that makes the answer independent of the subject (`wipe`) leaves it right on about one
    sequence in `n_subjects`, by chance: the search, not the first sequence, is what makes the example
    change its answer on any trained network."""
    ids, _ = recall_sequences(gap, n)
    texts = [p["text"] for p in presets if p["gap"] == gap] + [
        "".join(lab.vocab[i] for i in row) for row in ids.tolist()
    ]
    batch = torch.tensor([lab.encode(t) for t in texts])  # every text at `gap` has gap + 2 tokens
    subject = torch.tensor([lab.outputs.index(t[0]) for t in texts])
    free, clamped = (lab.run(batch, c)[:, -1].argmax(-1) for c in ([], clamp))
    found = ((free == subject) & (clamped != subject)).nonzero()
    if not len(found):
        raise ValueError(
            f"answer_changing_example: expected a sequence at gap {gap} whose answer the clamp changes, "
            f"got none among {len(texts)} (the free model names {int((free == subject).sum())} of them)"
        )
    text = texts[int(found[0])]
    known = [p["text"] for p in presets]
    if text in known:
        return known.index(text), presets
    label = f"a validation sequence, gap {gap}, whose answer the first set-up changes"
    return len(presets), [*presets, {"gap": gap, "text": text, "label": label}]


def longest(presets: list) -> int:
    """The index of the recall example at the longest gap (the first of them)."""
    return max(range(len(presets)), key=lambda k: (presets[k]["gap"], -k))


def guided_setups(out: dict) -> dict[str, dict]:
    """What each "try this" step of the page sets: the model, the example (an index into the model's
    presets), the clamps (`units` a list or `"all"`), and the step and token whose probability it
    reads (the closing quote; the subject at the query). The first, `lstm-wipe`, is the one the lab
    opens with: its example is one whose answer it changes (`answer_changing_example`)."""
    strings = out["experiments"]["strings"]
    line, close = strings["preset"]["line"], strings["preset"]["close"]
    whole = lambda unit: [{"gate": "f", "units": [unit], "value": 0.0, "from": 0, "to": len(line)}]  # noqa: E731
    setups = {"lstm-wipe": None}  # first: the key order is the order the page's configuration lists them
    setups["string-correlation"] = {
        "model": "char",
        "preset": 0,
        "clamps": whole(strings["units"]["correlation"]["unit"]),
    }
    setups["string-cause"] = {"model": "char", "preset": 0, "clamps": whole(strings["cause"])}
    for key in ("string-correlation", "string-cause"):
        setups[key].update(step=close - 1, target=line[close])

    def every(gate: str, value: float, start: int, stop: int) -> dict:
        return {"gate": gate, "units": "all", "value": value, "from": start, "to": stop}

    for cell, steps in (("lstm", ("wipe", "output", "input", "latch")), ("gru", ("frozen", "replaced"))):
        name = f"recall-{cell}"
        presets = out["presets"][name]
        for step in steps:
            # the longest gap shows what freezing does; the wipe, an example whose answer it changes
            k = (
                longest(presets)
                if step == "frozen"
                else out["experiments"][name]["wipe_example"]
                if step == "wipe"
                else 0
            )
            gap, text = presets[k]["gap"], presets[k]["text"]
            clamps = {
                "wipe": [every("i", 0.0, 1, 2), every("f", 0.0, 1, 2)],
                "output": [every("o", 0.0, 1, gap + 1)],
                "input": [every("i", 0.0, 1, gap + 1)],
                "latch": [every("i", 0.0, 1, gap + 1), every("f", 1.0, 1, gap + 1)],
                "frozen": [every("z", 1.0, 1, gap + 1)],
                "replaced": [every("z", 0.0, 1, 2)],
            }[step]
            setups[f"{cell}-{step}"] = {
                "model": name,
                "preset": k,
                "clamps": clamps,
                "step": len(text) - 1,
                "target": text[0],
            }
    return setups


def expand(clamps: list[dict], hidden_size: int) -> list[dict]:
    """A setup's clamps as the package takes them: one per unit."""
    return [
        {"gate": c["gate"], "unit": u, "from": c["from"], "to": c["to"], "value": c["value"]}
        for c in clamps
        for u in (range(hidden_size) if c["units"] == "all" else c["units"])
    ]


def setup_run(lab: Lab, setup: dict, presets: list) -> dict[str, Tensor]:
    """The setup's example run `free` and `clamped`: the read-out's probabilities, (steps, outputs) each."""
    preset = presets[setup["preset"]]
    ids = lab.encode(preset if isinstance(preset, str) else preset["text"])
    runs = (("free", []), ("clamped", expand(setup["clamps"], lab.layer.hidden_size)))
    return {name: torch.softmax(lab.run(ids, clamps)[0], -1) for name, clamps in runs}


def setup_outcome(lab: Lab, setup: dict, presets: list) -> dict:
    """The setup's example run free and clamped: at its step, the target's probability and the top token."""
    target = lab.outputs.index(setup["target"])
    out = {}
    for name, probabilities in setup_run(lab, setup, presets).items():
        p = probabilities[setup["step"]]
        out[name] = {"p_target": float(p[target]), "top": lab.outputs[int(p.argmax())], "p_top": float(p.max())}
    return out


# --------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------


@experiment("gate_lab")
def gate_lab(config: GateLabConfig = GateLabConfig()) -> dict:
    """The lab's exported models, the units offered first, example inputs, and the guided experiments'
    results on the exported weights (plus how close the exported models come to the trained ones)."""
    models = source_models(config)
    units = text_units(config.text)
    # One thread, as the worker processes run (two threads spin and crawl on a shared CPU).
    return pool.in_process(_measure, [(config, models, units)])[0]


def _measure(config: GateLabConfig, models: dict, units_result: dict) -> dict:
    exported = {name: export_model(name, m, config.resolution, config.input_resolution) for name, m in models.items()}
    labs = {name: Lab(e) for name, e in exported.items()}
    out = {"models": exported, "units": {}, "presets": {}, "experiments": {}, "fidelity": {}}

    # The character model: the real-text page's units, the string experiment, and its bits per character.
    units = char_units(units_result, config.n_units)
    corpus = tasks.CharCorpus(seq_len=config.text.model.seq_len)
    files = [text for _, text in validation_texts(corpus)]
    texts = [t[: config.text.max_chars] for t in files]
    in_string = [interpret.source_features(t)["in_string"][: config.text.max_chars] for t in files]
    lines = string_lines(texts, in_string, config)
    string_best = next(u["unit"] for u in units["best"] if u["feature"] == "in_string")
    measured = string_experiment(labs["char"], lines, {"string": units["string"]})
    named = {"correlation": string_best, "cause": measured["cause"]}
    strings = string_summary(measured, lines, named)
    out["units"]["char"] = {"best": units["best"], "groups": {"string": units["string"]}, "cause": measured["cause"]}
    out["experiments"]["strings"] = strings
    out["presets"]["char"] = [strings["preset"]["line"], *config.char_presets]
    out["fidelity"]["char"] = {
        "trained_bpc": char_bpc(models["char"]["state_dict"], corpus, texts),
        "exported_bpc": char_bpc(sequence_state_dict(exported["char"]), corpus, texts),
    }

    # The recall models: the carrying units, the clamps, and the accuracy before and after export.
    for cell in ("lstm", "gru"):
        name, model = f"recall-{cell}", models[f"recall-{cell}"]
        carrying = recall_units(model["state_dict"], cell, model["gap"], config.n_units)
        out["units"][name] = {"best": [], "groups": {"carrying": carrying}}
        out["experiments"][name] = {
            "gap": model["gap"],
            **recall_experiments(labs[name], cell, model["gap"], carrying, config),
        }
        out["presets"][name] = recall_presets(labs[name], model["gap"], config)
        if cell == "lstm":  # the lab's opening set-up wipes the memory: an example whose answer that changes
            every = range(model["state_dict"]["rnn.weight_hh_l0"].shape[1])
            k, out["presets"][name] = answer_changing_example(
                labs[name], wipe(every), out["presets"][name], model["gap"], config.n_sequences
            )
            out["experiments"][name]["wipe_example"] = k
        out["fidelity"][name] = {
            "trained_accuracy": _trained_accuracy(model["state_dict"], model["gap"], config.n_sequences),
            "exported_accuracy": out["experiments"][name]["accuracy"]["free"][0],
        }
    out["setups"] = guided_setups(out)
    for setup in out["setups"].values():
        setup["outcome"] = setup_outcome(labs[setup["model"]], setup, out["presets"][setup["model"]])
    # The set-up the lab opens with, every step of its run: the page's first figure draws it.
    opening = next(iter(out["setups"]))
    model = out["setups"][opening]["model"]
    runs = setup_run(labs[model], out["setups"][opening], out["presets"][model])
    out["opening"] = {"setup": opening, **{name: p.tolist() for name, p in runs.items()}}
    return out


@torch.no_grad()
def _trained_accuracy(state_dict: dict, gap: int, n: int) -> float:
    layer = train.traceable_layer(state_dict)
    ids, subject = recall_sequences(gap, n)
    out, _ = layer(F.one_hot(ids, layer.input_size).float())
    logits = F.linear(out[:, -1], state_dict["readout.weight"], state_dict["readout.bias"])
    return float((logits.argmax(-1) == subject).float().mean())


@torch.no_grad()
def char_bpc(state_dict: dict, corpus: tasks.CharCorpus, texts: list[str]) -> float:
    """Bits per character of a character model on `texts`, each from a zero state (one padded batch)."""
    model = train.SequenceModel("lstm", len(corpus.vocab), state_dict["rnn.weight_hh_l0"].shape[1], len(corpus.vocab))
    model.load_state_dict(state_dict)
    ids = [corpus.encode(t) for t in texts]
    length = max(len(i) for i in ids)
    batch = torch.zeros(len(ids), length, dtype=torch.long)
    mask = torch.zeros(len(ids), length - 1, dtype=torch.bool)
    for row, i in enumerate(ids):
        batch[row, : len(i)] = i
        mask[row, : len(i) - 1] = True
    logits = model(F.one_hot(batch[:, :-1], len(corpus.vocab)).float())
    nll = F.cross_entropy(logits.transpose(1, 2), batch[:, 1:], reduction="none")
    return float(nll[mask].mean()) / math.log(2)
