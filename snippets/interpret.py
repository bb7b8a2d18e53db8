r"""Find cells of a trained character model whose activation tracks something a reader can see.

Karpathy, Johnson & Fei-Fei (2015, "Visualizing and Understanding Recurrent Networks") found LSTM
cells that track quotes, line length and indentation. Here the search is automatic: each readable
feature of Python source is computed per character, and every unit's activation is correlated
with it; the unit with the largest $|\rho|$ is the one the page shows.

$$\rho_{u} = \frac{\operatorname{cov}(a_u, \phi)}{\sigma_{a_u}\, \sigma_{\phi}}$$

for a unit's activation $a_u$ over the characters and a feature $\phi$ over the same characters.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

import torch
from torch import Tensor

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
        raise ValueError(f"source_features: expected complete Python source, got text the tokenizer rejects: {error}") from error
    return mask


@dataclass(frozen=True)
class TrackingUnit:
    """The unit whose activation correlates most with a feature."""

    feature: str
    unit: int
    correlation: float


def correlations(activations: Tensor, feature: Tensor) -> Tensor:
    """Pearson correlation of each unit (column of `activations`, shape (time, units)) with `feature`."""
    if activations.dim() != 2 or feature.dim() != 1 or activations.shape[0] != feature.shape[0]:
        raise ValueError(
            f"correlations: expected activations (time, units) and feature (time,) of equal length, "
            f"got {tuple(activations.shape)} and {tuple(feature.shape)}"
        )
    a = activations.double() - activations.double().mean(0)
    f = feature.double() - feature.double().mean()
    denom = a.norm(dim=0) * f.norm()
    return torch.where(denom > 0, (a * f[:, None]).sum(0) / denom, torch.zeros_like(denom))


def find_tracking_units(activations: Tensor, features: dict[str, Tensor]) -> list[TrackingUnit]:
    """For each feature, the unit with the largest |correlation|, sorted by how well it tracks."""
    found = []
    for name, feature in features.items():
        rho = correlations(activations, feature)
        unit = int(rho.abs().argmax())
        found.append(TrackingUnit(name, unit, float(rho[unit])))
    return sorted(found, key=lambda u: -abs(u.correlation))
