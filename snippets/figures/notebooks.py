"""Tables and checks of the two notebooks: training on the adding problem, and the reader's sequence.

A notebook's text cells are Markdown; where one states a result, a code cell right after it calls
`require(claim_function, ...)`: it returns a mark with the evidence when the claim holds, and raises
`ClaimFailed` (the statement, from the function's docstring, and the numbers) when it does not, which
fails the site's build (mkdocs-jupyter runs with `allow_errors: false`). No sentence is built here.
"""

from __future__ import annotations

import inspect
import math
from html import escape

import torch

from snippets.experiments.stats import mean_ci95
from snippets.figures import Claim

# -- checks ----------------------------------------------------------------------------------------


class ClaimFailed(AssertionError):
    """A notebook's statement that does not hold on the data it ran on."""


class Checked:
    """A claim that held: shown in a notebook as a check mark with its evidence."""

    def __init__(self, claim: Claim):
        self.claim = claim

    def _repr_markdown_(self) -> str:
        return f"✓ *Checked on this run:* {self.claim.evidence}"

    def __repr__(self) -> str:
        return f"Checked({self.claim.evidence!r})"


def require(check, *args, **kwargs) -> Checked:
    """Call `check(*args, **kwargs)`, a function returning a `Claim`; raise `ClaimFailed` with its
    statement (its docstring) and the evidence if the claim does not hold."""
    claim = check(*args, **kwargs)
    if not isinstance(claim, Claim):
        raise TypeError(f"require: expected {check.__name__} to return a snippets.figures.Claim, got {claim!r}")
    if not claim.holds:
        statement = " ".join((inspect.getdoc(check) or check.__name__).split())
        raise ClaimFailed(f"{check.__name__} does not hold. It says: {statement} Evidence: {claim.evidence}")
    return Checked(claim)


# -- tables ----------------------------------------------------------------------------------------


class Table:
    """A table a notebook shows: Markdown, or an HTML table folded under `summary` when given."""

    def __init__(self, header: list[str], rows: list[list[str]], summary: str | None = None):
        self.header, self.rows, self.summary = header, rows, summary

    def _repr_markdown_(self) -> str | None:
        if self.summary is not None:
            return None
        lines = ["| " + " | ".join(self.header) + " |", "|" + " --- |" * len(self.header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in self.rows])

    def _repr_html_(self) -> str | None:
        if self.summary is None:
            return None
        head = "".join(f"<th>{escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        return (
            f"<details><summary>{escape(self.summary)}</summary><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></details>"
        )


def _pm(values, digits: int = 4) -> str:
    """Mean ± half-width of its 95 % confidence interval over the values (seeds)."""
    mean, low, high = (float(v) for v in mean_ci95(values))
    return f"{mean:.{digits}f} ± {(high - low) / 2:.{digits}f}"


# -- the adding-problem notebook -------------------------------------------------------------------


def training_table(log: dict, task, config) -> Table:
    """One run of `train.train_cell`: its budget, the stopping rule, where it stopped, its final
    validation MSE (the last check's) and the memoryless baseline."""
    rule = "none" if config.target_loss is None else f"validation MSE < {config.target_loss:g}"
    stopped = "early (rule met)" if log["status"] == "solved" else log["status"]
    return Table(
        ["budget (steps)", "stopping rule", "steps run", "stopped", "final validation MSE", "baseline"],
        [
            [
                str(config.steps),
                rule,
                str(log["steps_run"]),
                stopped,
                f"{log['val_loss'][-1]:.4f}",
                f"{task.baseline:.4f}",
            ]
        ],
    )


def far_below_baseline(log: dict, task, factor: float = 10.0) -> Claim:
    """The run's final validation MSE is at least ten times below the memoryless baseline."""
    final = log["val_loss"][-1]
    return Claim(final * factor < task.baseline, f"final {final:.4f}, baseline {task.baseline:.4f}")


def site_runs_table(result: dict) -> Table:
    """Per cell of an `adding_problem` result: its size, its final validation MSE (mean ± 95 % CI
    over the seeds) and how many runs stopped early."""
    rows = []
    for cell, r in result["cells"].items():
        early = sum(s == "solved" for s in r["status"])
        rows.append(
            [
                cell,
                str(result["hidden_size"][cell]),
                str(r["n_params"]),
                _pm(r["final_val_loss"]),
                f"{early} of {len(r['status'])}",
            ]
        )
    return Table(["cell", "hidden", "parameters", "final val. MSE", "stopped early"], rows)


def site_runs_per_seed(result: dict) -> Table:
    """Per run of an `adding_problem` result: the step it stopped at and its final validation MSE."""
    rows = []
    for cell, r in result["cells"].items():
        for k, run in enumerate(r["runs"]):
            rows.append([cell, str(k), str(run["val_step"][-1]), r["status"][k], f"{r['final_val_loss'][k]:.4f}"])
    return Table(["cell", "run", "last step", "status", "final validation MSE"], rows, summary="Per seed")


def gated_cells_learn_on_every_seed(result: dict, cells=("lstm_fb1", "gru"), factor: float = 10.0) -> Claim:
    """On every seed, each of `cells` (by default the LSTM with forget bias 1 and the GRU) ends at
    least ten times below the memoryless baseline."""
    base = result["baseline"]
    finals = {cell: result["cells"][cell]["final_val_loss"] for cell in cells}
    holds = all(v * factor < base for values in finals.values() for v in values)
    worst = ", ".join(f"{cell} worst {max(values):.4f}" for cell, values in finals.items())
    return Claim(holds, f"{worst}; baseline {base:.4f}")


def gate_summary(trace: dict, x: torch.Tensor, units: list[int], settle: int = 10) -> dict[int, dict]:
    """Per unit, over all sequences of an adding-problem batch `x` (batch, time, 2) and the layer's
    gate `trace` (keys as `return_gates=True` gives them, (layers, directions, time, batch, units)):

    - `f_after`: its mean forget gate at the steps after the first mark;
    - `i_marks`, `i_other`: its mean input gate at the marked steps, and at the unmarked ones;
    - `move_marks`, `move_other`: the mean |c_t - c_{t-1}| into a marked step, and into an unmarked
      step after step `settle` (before it, the cells settle from their zero state).
    """
    marks = x[:, :, 1].T > 0  # (time, batch)
    t = torch.arange(marks.shape[0])[:, None]
    first = marks.float().argmax(0)[None]  # first marked step of each sequence
    after = t > first
    f, i, c = (trace[k][0, 0] for k in ("f", "i", "c"))  # (time, batch, units)
    move = torch.cat([torch.zeros_like(c[:1]), (c[1:] - c[:-1]).abs()])
    late = (t >= settle) & ~marks
    return {
        u: {
            "f_after": float(f[..., u][after].mean()),
            "i_marks": float(i[..., u][marks].mean()),
            "i_other": float(i[..., u][~marks].mean()),
            "move_marks": float(move[..., u][marks].mean()),
            "move_other": float(move[..., u][late].mean()),
        }
        for u in units
    }


def gate_table(summary: dict[int, dict], rho: torch.Tensor) -> Table:
    """`gate_summary` with each unit's correlation with the target, one row per unit."""
    rows = [
        [
            str(u),
            f"{float(rho[u]):+.3f}",
            f"{s['f_after']:.3f}",
            f"{s['i_marks']:.3f}",
            f"{s['i_other']:.3f}",
            f"{s['move_marks']:.3f}",
            f"{s['move_other']:.4f}",
        ]
        for u, s in summary.items()
    ]
    header = ["unit", "ρ", "f after mark 1", "i at marks", "i other", "c moves at marks", "other"]
    return Table(header, rows)


def stores(s: dict, f_min: float = 0.95, ratio: float = 10.0) -> bool:
    """Whether a unit behaves as a store: forget gate above `f_min` after the first mark, input gate at
    the marks more than `ratio` times what it is elsewhere."""
    return s["f_after"] > f_min and s["i_marks"] > ratio * s["i_other"]


def a_unit_stores_the_sum(summary: dict[int, dict]) -> Claim:
    """At least one of these units stores: its forget gate stays above 0.95 after the first mark, and its
    input gate opens at the marks more than ten times as wide as elsewhere."""
    found = [u for u, s in summary.items() if stores(s)]
    evidence = "; ".join(
        f"unit {u}: f {s['f_after']:.3f}, i {s['i_marks']:.3f} at marks vs {s['i_other']:.3f}"
        for u, s in summary.items()
    )
    return Claim(bool(found), f"stores: {found or 'none'} ({evidence})")


def stores_move_at_the_marks(summary: dict[int, dict], ratio: float = 10.0) -> Claim:
    """Every unit that stores moves its cell state at least ten times more into a marked step than into
    an unmarked one."""
    found = {u: s for u, s in summary.items() if stores(s)}
    holds = bool(found) and all(s["move_marks"] > ratio * s["move_other"] for s in found.values())
    evidence = "; ".join(f"unit {u}: {s['move_marks']:.3f} vs {s['move_other']:.4f}" for u, s in found.items())
    return Claim(holds, evidence or "no unit stores")


# -- the your-sequence notebook --------------------------------------------------------------------


def distribution_table(values: list[float], marked: tuple[int, int], trained_T: int) -> Table:
    """How the reader's sequence compares with the training data: length, value range, mark positions."""
    half = len(values) // 2
    return Table(
        ["", "your sequence", "training sequences"],
        [
            ["steps", str(len(values)), str(trained_T)],
            ["values", f"{min(values):g} to {max(values):g}", "0 to 1 (uniform)"],
            ["marked steps", f"{marked[0]} and {marked[1]}", f"one in 0–{trained_T // 2 - 1}, one in the rest"],
            ["marks one in each half", "yes" if marked[0] < half <= marked[1] else "no", "yes"],
        ],
    )


def in_distribution(values: list[float], marked: tuple[int, int], trained_T: int) -> Claim:
    """The sequence looks like the training data: as long, every value between 0 and 1, one mark in each
    half. (If you leave the training distribution on purpose, delete this check: the answers below then
    test the networks outside what they learned, not their memory.)"""
    half = len(values) // 2
    checks = {
        "length": len(values) == trained_T,
        "values in [0, 1]": all(0.0 <= v <= 1.0 for v in values),
        "one mark in each half": len(marked) == 2 and 0 <= marked[0] < half <= marked[1] < len(values),
    }
    failed = [name for name, ok in checks.items() if not ok]
    return Claim(not failed, "all hold" if not failed else "fails: " + ", ".join(failed))


def mean_forget_gate(lstm: torch.nn.LSTM, x: torch.Tensor) -> float:
    """The mean forget gate of a `torch.nn.LSTM` (one layer) over every step and unit of `x`, computed
    by `snippets.LSTM` on the same weights."""
    from snippets.layers import LSTM

    twin = LSTM(lstm.input_size, lstm.hidden_size, batch_first=lstm.batch_first).to(next(lstm.parameters()).dtype)
    twin.load_state_dict(lstm.state_dict())
    with torch.no_grad():
        _, _, trace = twin(x.to(next(lstm.parameters()).dtype), return_gates=True)
    return float(trace["f"].mean())


def forget_gate_between(gate: float, low: float, high: float) -> Claim:
    """The mean forget gate lies between the two bounds the text gives."""
    return Claim(low <= gate <= high, f"mean forget gate {gate:.3f} (bounds {low:g} to {high:g})")


def survival_table(curves: dict) -> Table:
    """Per model, the distance at the last step relative to the first: how much of the change survives."""
    return Table(
        ["model", "steps", "distance at the end / at the first step"],
        [[name, str(len(c) - 1), f"{float(c[-1] / c[0]):.3g}"] for name, c in curves.items()],
    )


def longest_memory(curves: dict, name: str) -> Claim:
    """Of the models compared, the named one keeps the largest share of the change to the end."""
    share = {k: float(c[-1] / c[0]) for k, c in curves.items()}
    best = max(share, key=share.get)
    return Claim(best == name, "; ".join(f"{k} {v:.3g}" for k, v in share.items()))


def answers_table(answers: dict[str, float], right: float, val_mse: dict[str, float]) -> Table:
    """Per trained cell: its answer, the right answer, its error, and its typical error on the
    validation set (the root of its final validation MSE)."""
    return Table(
        ["cell", "its answer", "right answer", "error", "typical error (validation RMSE)"],
        [
            [cell, f"{a:.3f}", f"{right:.3f}", f"{a - right:+.3f}", f"{math.sqrt(val_mse[cell]):.3f}"]
            for cell, a in answers.items()
        ],
    )
