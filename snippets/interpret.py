r"""Look inside trained networks: which units track what.

Two searches, each automatic, so that no unit on a page is picked by hand.

*A character model on Python source.* Karpathy, Johnson & Fei-Fei (2015, "Visualizing and
Understanding Recurrent Networks") found LSTM cells that track quotes, line length and indentation.
Here each readable feature of Python source is computed per character, and every unit's activation
is correlated with it; the unit with the largest $|\rho|$ is the one the page shows.

$$\rho_{u} = \frac{\operatorname{cov}(a_u, \phi)}{\sigma_{a_u}\, \sigma_{\phi}}$$

for a unit's activation $a_u$ over the characters and a feature $\phi$ over the same characters.

*A recall LSTM.* `recall_traces` runs a trained recall model (weights from the `recall` experiment)
on the task's own validation sequences and returns its gate traces; `subject_variance` measures how
much of a unit's cell state the subject explains at each step, and `carrying_units` picks the
units whose cell state depends most on the subject at the query.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from snippets.errors import check_size

OPEN, CLOSE = "([{", ")]}"
STRING_TOKENS = {tokenize.STRING} | {
    getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, name)
}


def source_features(text: str) -> dict[str, Tensor]:
    """Per-character features of Python source `text` (one value per character).

    - `in_string`: 1 inside a string literal (quotes included), else 0;
    - `in_comment`: 1 inside a `#` comment;
    - `bracket_depth`: how many (, [ or { are open, outside strings and comments;
    - `indent`: the indentation, in spaces, of the line the character is on;
    - `column`: the character's position in its line.
    """
    in_string, in_comment = _token_mask(text, STRING_TOKENS), _token_mask(text, {tokenize.COMMENT})
    depth, indent, column = [], [], []
    level, line_indent, col = 0, 0, 0
    for k, ch in enumerate(text):
        if col == 0:
            line_indent = len(text[k:]) - len(text[k:].lstrip(" ")) if ch == " " else 0
        code = not (in_string[k] or in_comment[k])
        if code and ch in CLOSE:
            level = max(level - 1, 0)
        depth.append(level)
        if code and ch in OPEN:
            level += 1
        indent.append(line_indent)
        column.append(col)
        col = 0 if ch == "\n" else col + 1
    as_tensor = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
    return {
        "in_string": as_tensor(in_string),
        "in_comment": as_tensor(in_comment),
        "bracket_depth": as_tensor(depth),
        "indent": as_tensor(indent),
        "column": as_tensor(column),
    }


def _token_mask(text: str, kinds: set[int]) -> list[int]:
    """1 for every character inside a token of one of `kinds`, found with Python's own tokenizer."""
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    mask = [0] * len(text)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                raise tokenize.TokenError(f"unexpected {tok.string!r} at line {tok.start[0]}", tok.start)
            if tok.type in kinds:
                start = line_starts[tok.start[0] - 1] + tok.start[1]
                end = line_starts[tok.end[0] - 1] + tok.end[1]
                mask[start:end] = [1] * (end - start)
    except (tokenize.TokenError, IndentationError, SyntaxError) as error:
        raise ValueError(
            f"source_features: expected complete Python source, got text the tokenizer rejects: {error}"
        ) from error
    return mask


@dataclass(frozen=True)
class TrackingUnit:
    """The unit whose activation correlates most with a feature."""

    feature: str
    unit: int
    correlation: float


def correlations(activations: Tensor, feature: Tensor) -> Tensor:
    """Pearson correlation of each unit (column of `activations`, shape (time, units)) with `feature`.

    `feature` of shape (time,) gives one correlation per unit; of shape (time, k), k features at
    once, one column of correlations per feature (units, k).
    """
    if activations.dim() != 2 or feature.dim() not in (1, 2) or activations.shape[0] != feature.shape[0]:
        raise ValueError(
            f"correlations: expected activations (time, units) and feature (time,) or (time, k) of equal "
            f"length, got {tuple(activations.shape)} and {tuple(feature.shape)}"
        )
    a = activations.double() - activations.double().mean(0)
    f = feature.double().reshape(len(feature), -1)
    f = f - f.mean(0)
    denom = a.norm(dim=0)[:, None] * f.norm(dim=0)[None, :]
    rho = torch.where(denom > 0, (a.T @ f) / denom, torch.zeros_like(denom))
    return rho[:, 0] if feature.dim() == 1 else rho


def find_tracking_units(activations: Tensor, features: dict[str, Tensor]) -> list[TrackingUnit]:
    """For each feature, the unit with the largest |correlation|, sorted by how well it tracks."""
    rho = correlations(activations, torch.stack(list(features.values()), dim=1))  # (units, features)
    found = []
    for k, name in enumerate(features):
        unit = int(rho[:, k].abs().argmax())
        found.append(TrackingUnit(name, unit, float(rho[unit, k])))
    return sorted(found, key=lambda u: -abs(u.correlation))


def separation(values: Tensor, inside: Tensor) -> dict[str, float]:
    r"""How well one unit's `values` tell the characters `inside` a feature (1) from those outside (0).

    Returns the unit's mean inside and outside, and the area under the ROC curve,

    $$\mathrm{AUC} = P(a_{\text{in}} > a_{\text{out}}) + \tfrac12 P(a_{\text{in}} = a_{\text{out}}),$$

    for a character drawn from inside and one from outside: 1 when every inside value is the
    larger, 0.5 when the unit's value says nothing about the feature, 0 when every one is smaller.
    """
    if values.dim() != 1 or values.shape != inside.shape:
        raise ValueError(
            f"separation: expected values and inside of one shape (time,), got {tuple(values.shape)} "
            f"and {tuple(inside.shape)}"
        )
    mask = inside.bool()
    n_in, n_out = int(mask.sum()), int((~mask).sum())
    if n_in == 0 or n_out == 0:
        raise ValueError(f"separation: expected characters both inside and outside, got {n_in} and {n_out}")
    # Mann-Whitney: the ranks of the inside values among all (ties share their mean rank).
    _, inverse, counts = torch.unique(values.double(), return_inverse=True, return_counts=True)
    mean_rank = torch.cumsum(counts, 0) - (counts - 1) / 2  # 1-based rank of each distinct value
    rank_sum = float(mean_rank[inverse][mask].sum())
    return {
        "mean_inside": float(values[mask].double().mean()),
        "mean_outside": float(values[~mask].double().mean()),
        "auc": (rank_sum - n_in * (n_in + 1) / 2) / (n_in * n_out),
    }


# -- what a trained recall LSTM holds ---------------------------------------------------------------


@torch.no_grad()
def recall_traces(state_dict: dict, gap: int, n: int = 1024, seed: int = 0) -> dict:
    """Gate traces of a trained recall model on `n` of the task's sequences at `gap`.

    `state_dict` is a `SequenceModel`'s (keys `rnn.weight_ih_l0`, ..., `readout.weight`), as the
    `recall` experiment stores it. The sequences are the run's validation batch for `seed` when
    `n` is the validation size (`data_generator(seed, stream=1)`). Returns numpy arrays: every
    trace key (`"i"`, `"f"`, `"g"`, `"o"`, `"h"`, `"c"`) as (time, sequence, unit), `"subject"`
    (sequence,), and `"correct"` (sequence,), whether the read-out named the subject.
    """
    from snippets.seeding import data_generator
    from snippets.tasks import Recall
    from snippets.train import traceable_layer

    check_size("n", n, 1)
    layer = traceable_layer(state_dict)
    if layer.mode != "LSTM":
        raise ValueError(f"recall_traces: expected an LSTM's state_dict, got one of a {layer.mode} layer")
    task = Recall(gap=gap)
    if layer.input_size != task.input_size:
        raise ValueError(
            f"recall_traces: the weights expect input size {layer.input_size}, the recall task has {task.input_size}"
        )
    x, subject = task.sample(n, data_generator(seed, stream=1))
    output, _, trace = layer(x, return_gates=True)
    logits = F.linear(output, state_dict["readout.weight"], state_dict["readout.bias"])
    out = {key: value[0, 0].numpy() for key, value in trace.items()}
    out["subject"] = subject.numpy()
    out["correct"] = (logits[:, -1].argmax(-1) == subject).numpy()
    return out


def subject_variance(c: np.ndarray, subject: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""How much of each unit's cell state the subject accounts for.

    `c` is (sequence, unit) at one step, or (time, sequence, unit). Returns the between-subject
    variance $\sum_s p_s (\bar c_s - \bar c)^2$ and its share of the total variance ($R^2$ of a
    model that knows only the subject; 1 where the total variance is 0), one per unit (per step).
    """
    c = np.asarray(c, dtype=np.float64)
    subject = np.asarray(subject)
    if c.ndim not in (2, 3) or c.shape[-2] != subject.shape[0]:
        raise ValueError(
            f"subject_variance: expected c of shape ([time,] sequence, unit) with "
            f"{subject.shape[0]} sequences, got {c.shape}"
        )
    mean = c.mean(-2, keepdims=True)
    between = np.zeros(c.shape[:-2] + c.shape[-1:])
    for s in np.unique(subject):
        rows = c[..., subject == s, :]
        between += rows.shape[-2] / c.shape[-2] * (rows.mean(-2) - mean[..., 0, :]) ** 2
    total = ((c - mean) ** 2).mean(-2)
    share = np.divide(between, total, out=np.ones_like(between), where=total > 0)
    return between, share


def carrying_units(c_query: np.ndarray, subject: np.ndarray, n_units: int = 3) -> list[int]:
    """The `n_units` units whose cell state at the query step varies most between subjects."""
    check_size("n_units", n_units, 1)
    between, _ = subject_variance(c_query, subject)
    if n_units > between.shape[-1]:
        raise ValueError(f"carrying_units: asked for {n_units} units of {between.shape[-1]}")
    return [int(u) for u in np.argsort(-between, kind="stable")[:n_units]]
