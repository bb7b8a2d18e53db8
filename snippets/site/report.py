"""The build report: what this build loaded and what it computed, with what each cost.

As sphinx-gallery does for its examples. `snippets.experiments.cache.report()` holds this process's
records; each build starts a fresh list (`snippets.site.hooks`).
"""

from __future__ import annotations


def budget(config) -> tuple[str, str]:
    """(seeds, training steps) of an experiment's config, as text; "–" where it has none."""
    if not isinstance(config, dict):
        return "–", "–"
    seeds = config.get("seeds")
    steps = config.get(
        "steps", (config.get("train") or {}).get("steps") if isinstance(config.get("train"), dict) else None
    )
    seeds = len(seeds) if isinstance(seeds, (list, tuple)) else seeds
    return ("–" if seeds is None else str(seeds)), ("–" if steps is None else f"{steps:,}")


def report_table(records: list[dict], wall_seconds: float) -> str:
    """A Markdown table of cache records: experiment, loaded or computed, seeds, budget, CPU seconds.

    CPU seconds are what computing the result took, in the build process and in the worker
    processes its runs went to, whenever it was computed (so a build that loads everything from the
    cache still reports what each result cost). An entry read more than once (one experiment
    reading another's result) is listed and counted once. The last row adds them up, and gives
    this build's wall clock for all of them, which is less where experiments ran side by side.
    """
    if not records:
        raise ValueError("report_table: expected the cache records of a build, got none (did the pre-build hook run?)")
    seen: set = set()
    records = [r for r in records if (r["name"], r["key"]) not in seen and not seen.add((r["name"], r["key"]))]
    lines = [
        "| experiment | this build | seeds | steps per run | CPU seconds to compute |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in records:
        status = "loaded from cache" if r["hit"] else "computed"
        seeds, steps = budget(r["config"])
        lines.append(f"| `{r['name']}` (`{r['key'][:8]}`) | {status} | {seeds} | {steps} | {r['cpu_seconds']:.1f} |")
    total = sum(r["cpu_seconds"] for r in records)
    lines.append(
        f"| **all {len(records)}** | {sum(not r['hit'] for r in records)} computed, "
        f"**{wall_seconds:.1f} s** wall clock this build | | | **{total:.1f}** |"
    )
    return "\n".join(lines)


def machine_table(signature: dict, seed_base: int, workers: int) -> str:
    """A Markdown table of what the build computed on (`snippets.experiments.machine.signature`)."""
    limits = ", ".join(f"`{name}={value}`" for name, value in signature["limits"].items()) or "none"
    rows = [
        ("processor", signature["processor"]),
        ("its vector extensions", ", ".join(signature["vector_extensions"]) or "none reported"),
        ("torch", signature["torch"]),
        ("oneDNN / MKL", f"{signature['onednn']} / {signature['mkl']}"),
        ("ATen's vector instructions (`cpu_capability`)", signature["cpu_capability"]),
        ("limits set in the environment", limits),
        ("threads per training run", str(signature["threads_per_run"])),
        ("worker processes", str(workers)),
        ("seed base (`SNIPPETS_SEED_BASE`)", str(seed_base)),
    ]
    return "\n".join(["| setting | this build |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])
