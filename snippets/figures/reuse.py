"""The reuse page: the cached `speed` experiment as Markdown tables."""

from __future__ import annotations

from snippets import experiments


def speed_table(mode: str, medians: dict[str, list[float]]) -> str:
    """Milliseconds per training step and inference, and ratios to torch.nn and the naive loop."""
    torch_train, torch_infer = medians[f"torch.nn.{mode}"]
    naive_train, _ = medians[f"naive {mode} loop"]
    lines = [
        "| candidate | train (ms) | infer (ms) | train ÷ torch.nn | train ÷ naive | infer ÷ torch.nn |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (train, infer) in medians.items():
        lines.append(
            f"| `{name}` | {1e3 * train:.1f} | {1e3 * infer:.1f} | {train / torch_train:.2f} | "
            f"{train / naive_train:.2f} | {infer / torch_infer:.2f} |"
        )
    return "\n".join(lines)


def speed_facts(result: dict | None = None) -> dict:
    """The numbers of the reuse page's speed section: the machine, the sizes, and per cell its table,
    and what recording traces changes (in % of the median time) on the default and the bptt paths."""
    result = experiments.speed() if result is None else result
    cells = {}
    for mode, medians in result["modes"].items():

        def change(traced: str, plain: str, k: int, medians=medians) -> str:
            return f"{100 * (medians[traced][k] / medians[plain][k] - 1):+.0f} %"

        base, bptt = f"snippets.{mode}", f"snippets.{mode} bptt"
        cells[mode] = {
            "table": speed_table(mode, medians),
            "traces_train": change(f"{base} + traces", base, 0),
            "traces_infer": change(f"{base} + traces", base, 1),
            "bptt_traces_train": change(f"{bptt} + traces", bptt, 0),
            "bptt_train_vs_default": f"{medians[bptt][0] / medians[base][0]:.2f}",
        }
    return {"machine": result["machine"], "hidden": result["hidden"], "repeats": result["repeats"], "cells": cells}
