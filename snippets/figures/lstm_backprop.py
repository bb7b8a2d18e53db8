r"""The page "Backpropagation through an LSTM, by hand": facts, claims and figures.

- the hand-written backward pass (`snippets.fast.bptt`) against `torch.autograd` on a random
  problem, computed when the page is built;
- full backpropagation through time against the 1997 truncated gradient, on the same networks
  (the `truncated_gradient` experiment).
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from snippets import seeding
from snippets.figures import COLORS, PHONE_WIDTH, Claim, theme
from snippets.figures.lstm import _pm, _range, _sci, log_band

# --------------------------------------------------------------------------------------
# The hand-written backward pass against autograd
# --------------------------------------------------------------------------------------

SIZES = {"T": 7, "batch": 3, "input": 4, "hidden": 5}


def bptt_against_autograd(seed: int | None = None, sizes: dict = SIZES) -> dict:
    """Every gradient of one random problem, twice: through `lstm_step` and autograd, and through the
    hand-written backward (`snippets.fast.use("bptt")`). Float64.

    The loss weighs every output and both final states with random weights, so every gradient the
    backward pass returns is exercised: the input, both initial states, and the four parameters.
    Returns the largest absolute difference per gradient, and the largest absolute gradient.
    """
    from snippets import LSTM, fast

    seed = seeding.seed(0) if seed is None else seed
    seeding.seed_everything(seed)
    lstm = LSTM(sizes["input"], sizes["hidden"]).double()
    g = seeding.data_generator(seed)
    shape = (sizes["batch"], sizes["hidden"])
    x = torch.randn(sizes["T"], sizes["batch"], sizes["input"], generator=g, dtype=torch.float64)
    h0, c0 = (torch.randn(1, *shape, generator=g, dtype=torch.float64) for _ in range(2))
    w_out = torch.randn(sizes["T"], *shape, generator=g, dtype=torch.float64)
    w_h, w_c = (torch.randn(1, *shape, generator=g, dtype=torch.float64) for _ in range(2))

    def gradients() -> dict:
        inputs = {"x": x.clone().requires_grad_(), "h0": h0.clone().requires_grad_(), "c0": c0.clone().requires_grad_()}
        out, (h, c) = lstm(inputs["x"], (inputs["h0"], inputs["c0"]))
        loss = (w_out * out).sum() + (w_h * h).sum() + (w_c * c).sum()
        named = {**inputs, **dict(lstm.named_parameters())}
        return dict(zip(named, torch.autograd.grad(loss, list(named.values()))))

    reference = gradients()
    with fast.use("bptt"):
        by_hand = gradients()
    return {
        "difference": {name: float((by_hand[name] - reference[name]).abs().max()) for name in reference},
        "largest": max(float(v.abs().max()) for v in reference.values()),
        "seed": seed,
        "sizes": dict(sizes),
    }


def bptt_facts() -> dict:
    """The comparison's numbers, for the page's sentences."""
    result = bptt_against_autograd()
    sizes = result["sizes"]
    return {
        "difference": _sci(max(result["difference"].values())),
        "largest": f"{result['largest']:.2g}",
        "n": str(len(result["difference"])),
        "names": ", ".join(f"`{name}`" for name in result["difference"]),
        "sizes": f"{sizes['T']} steps, batch {sizes['batch']}, input {sizes['input']}, hidden {sizes['hidden']}",
        "seed": str(result["seed"]),
    }


def hand_written_equals_autograd() -> Claim:
    """The hand-written backward pass gives every gradient autograd gives, to within 1e-12 (float64)."""
    result = bptt_against_autograd()
    worst = max(result["difference"], key=result["difference"].get)
    largest = result["difference"][worst]
    return Claim(
        largest < 1e-12, f"largest difference {largest:.1e} (in {worst}); largest gradient {result['largest']:.2g}"
    )


# --------------------------------------------------------------------------------------
# Full BPTT against the 1997 truncated gradient
# --------------------------------------------------------------------------------------


def _load(result: dict | None) -> dict:
    from snippets.experiments import truncated_gradient

    return truncated_gradient() if result is None else result


def plot_truncated(result: dict, narrow: bool = False) -> Figure:
    r"""$\lVert \partial L / \partial x_{T-k} \rVert$ against $k$, full and truncated gradient, one panel per bias.

    Lines: geometric mean over seeds; bands: its 95 % confidence interval.
    """
    biases = result["forget_biases"]
    with theme():
        size = (PHONE_WIDTH, 2.1 * len(biases) + 0.8) if narrow else (7.4, 3.2)
        fig = Figure(figsize=size, layout="constrained")
        axes = (
            fig.subplots(len(biases), 1, sharex=True, sharey=True)
            if narrow
            else fig.subplots(1, len(biases), sharey=True)
        )
        for ax, bias in zip(axes, biases):
            runs = result["runs"][str(bias)]
            k = np.arange(len(runs[0]["x_full"]))
            for key, label, color, style in (
                ("x_full", "full gradient (BPTT)", COLORS[0], "-"),
                ("x_truncated", "truncated (1997): the cell path only", COLORS[2], "-."),
            ):
                mean, low, high = log_band([run[key] for run in runs])
                ax.fill_between(k, low, high, color=color, alpha=0.25, linewidth=0)
                ax.plot(k, mean, color=color, linestyle=style, label=label)
            ax.set_yscale("log")
            ax.set_title(rf"forget bias $b_f = {bias:g}$", fontsize=10)
            if not narrow or bias == biases[-1]:
                ax.set_xlabel("steps before the answer, $k$")
            ax.set_ylabel(r"$\Vert \partial L / \partial x_{T-k} \Vert$" if narrow or bias == biases[0] else "")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=1 if narrow else 2, fontsize=9)
    return fig


def truncated_figure(narrow: bool = False) -> Figure:
    """`plot_truncated` of the cached `truncated_gradient` experiment."""
    return plot_truncated(_load(None), narrow=narrow)


def _far_ratio(run: dict) -> float:
    return run["x_full"][-1] / run["x_truncated"][-1]


def truncated_table(result: dict | None = None) -> str:
    """Markdown, per forget bias: how the two gradients compare (mean and 95 % CI over seeds)."""
    result = _load(result)
    lines = [
        "| forget bias | cosine of the weight gradients | norm, truncated / full "
        f"| input gradient {result['T'] - 1} steps back, full / truncated |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for bias in result["forget_biases"]:
        runs = result["runs"][str(bias)]
        ratios = [_far_ratio(run) for run in runs]
        geometric = float(10 ** np.mean(np.log10(ratios)))
        cosine, norm = _pm([r["cosine"] for r in runs], "{:.2f}"), _pm([r["norm_ratio"] for r in runs], "{:.2f}")
        lines.append(
            f"| {bias:g} | {cosine} | {norm} | {_sci(geometric)} (seeds: {_sci(min(ratios))} to {_sci(max(ratios))}) |"
        )
    return "\n".join(lines) + "\n"


def truncated_facts(result: dict | None = None) -> dict:
    """The numbers the truncation section prints."""
    result = _load(result)
    low, high = min(result["forget_biases"]), max(result["forget_biases"])
    cos = {b: [r["cosine"] for r in result["runs"][str(b)]] for b in result["forget_biases"]}
    return {
        "T": str(result["T"]),
        "far": str(result["T"] - 1),
        "hidden": str(result["hidden_size"]),
        "batch": str(result["batch"]),
        "seeds": str(len(result["seeds"])),
        "low": f"{low:g}",
        "high": f"{high:g}",
        "cos_low": _range(cos[low], "{:.2f}"),
        "cos_high": _range(cos[high], "{:.2f}"),
        "far_ratio_high": _range([_far_ratio(r) for r in result["runs"][str(high)]], "{:.0f}"),
    }


def truncation_keeps_the_direction_at_low_bias(result: dict | None = None) -> Claim:
    """At the lowest forget bias the truncated weight gradient points almost the same way as the full one:
    cosine above 0.9 on every seed."""
    result = _load(result)
    cos = [r["cosine"] for r in result["runs"][str(min(result["forget_biases"]))]]
    return Claim(min(cos) > 0.9, "cosines " + ", ".join(f"{c:.3f}" for c in cos))


def truncation_differs_more_at_high_bias(result: dict | None = None) -> Claim:
    """At the highest forget bias the two weight gradients differ more than at the lowest, seed by seed:
    their cosine is lower on every seed."""
    result = _load(result)
    low, high = (result["runs"][str(b)] for b in (min(result["forget_biases"]), max(result["forget_biases"])))
    lower = all(h["cosine"] < lo["cosine"] for h, lo in zip(high, low))
    return Claim(
        lower,
        f"cosines {[round(h['cosine'], 3) for h in high]} against {[round(lo['cosine'], 3) for lo in low]}",
    )


def truncated_gradient_is_smaller_far_back(result: dict | None = None) -> Claim:
    """At every bias and on every seed, the truncated gradient reaching the input farthest from the answer
    is smaller than the full one."""
    result = _load(result)
    ratios = [_far_ratio(r) for b in result["forget_biases"] for r in result["runs"][str(b)]]
    return Claim(min(ratios) > 1, f"smallest full / truncated ratio {min(ratios):.2f}")


def last_input_gradients_agree(result: dict | None = None) -> Claim:
    """At the last step (k = 0) the two gradients reaching the input are the same, to rounding: no later step
    exists whose paths the truncation could cut."""
    result = _load(result)
    worst = max(
        abs(r["x_full"][0] - r["x_truncated"][0]) / r["x_full"][0]
        for b in result["forget_biases"]
        for r in result["runs"][str(b)]
    )
    return Claim(worst < 1e-10, f"largest relative difference at k = 0: {worst:.1e}")
