"""The reuse page's speed section: the cached `speed` experiment as Markdown tables."""

from __future__ import annotations

from snippets import experiments


def speed_table(mode: str, medians: dict[str, list[float]]) -> str:
    """Milliseconds per training step and inference, and ratios to torch.nn and the naive loop."""
    torch_train, torch_infer = medians[f"torch.nn.{mode}"]
    naive_train, _ = medians[f"naive {mode} loop"]
    lines = ["| candidate | training step (ms) | inference (ms) | training, × torch.nn | training, × naive loop | inference, × torch.nn |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, (train, infer) in medians.items():
        lines.append(f"| `{name}` | {1e3 * train:.1f} | {1e3 * infer:.1f} | {train / torch_train:.2f} | "
                     f"{train / naive_train:.2f} | {infer / torch_infer:.2f} |")
    return "\n".join(lines)


def bench_section(result: dict | None = None) -> str:
    """The whole section: the machine, one table per cell, and what recording traces changes."""
    result = experiments.speed() if result is None else result
    parts = [f"Measured when this site was built, on {result['machine']}: batch 32, sequence 100, "
             f"input 64, hidden {result['hidden']}, float32; medians of {result['repeats']} rounds in "
             "which the candidates take turns, so that load from other processes falls on all alike. "
             "`python -m snippets.bench` runs the full benchmark (hidden 128 and 512) on your machine."]
    for mode, medians in result["modes"].items():
        plain, traced = medians[f"snippets.{mode}"], medians[f"snippets.{mode} + traces"]
        parts += [f"=== \"{mode}\"", "",
                  "    " + speed_table(mode, medians).replace("\n", "\n    "), "",
                  f"    Recording every gate (`return_gates=True`) changes the median time by "
                  f"{100 * (traced[0] / plain[0] - 1):+.0f} % in training and {100 * (traced[1] / plain[1] - 1):+.0f} % "
                  "in inference: the traces are tensors the loop keeps for the backward pass anyway.", ""]
    return "\n".join(parts)
