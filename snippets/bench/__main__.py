"""`python -m snippets.bench`: time `snippets.LSTM`/`GRU` against `torch.nn` and a naive loop.

`python -m snippets.bench --build REF [--turns N] [--warm-builds W]` times the site's cold and warm builds of this
working tree against commit REF instead (`snippets.bench.build`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import torch

from snippets.experiments.layer_timing import BATCH, INPUT, STEPS, machine_description, measure


def positive(text: str) -> int:
    """An argparse type: an int of at least 1, or a clear error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {value}")
    return value


def load() -> str:
    """The load average of the last minute, as printed."""
    with contextlib.suppress(OSError):
        return f"{os.getloadavg()[0]:.1f}"
    return "unknown"


def table(mode: str, medians: dict, compile_s: dict) -> list[str]:
    """The rows printed for one cell: each candidate's medians and ratios, what traces cost, compile times."""
    torch_train, torch_infer = medians[f"torch.nn.{mode}"]
    naive_train, _ = medians[f"naive {mode} loop"]
    header = ("train ms", "infer ms", "train/torch", "train/naive", "infer/torch")
    rows = [f"{'candidate':28} {header[0]:>9} {header[1]:>9}" + "".join(f" {h:>12}" for h in header[2:])]
    for name, (train, infer) in medians.items():
        rows.append(
            f"{name:28} {1e3 * train:9.2f} {1e3 * infer:9.2f} {train / torch_train:11.2f}x "
            f"{train / naive_train:11.2f}x {infer / torch_infer:11.2f}x"
        )
    for path in ("", " bptt"):
        plain_train, plain_infer = medians[f"snippets.{mode}{path}"]
        traced_train, traced_infer = medians[f"snippets.{mode}{path} + traces"]
        rows.append(
            f"traces cost{path} {100 * (traced_train / plain_train - 1):+.0f} % in training, "
            f"{100 * (traced_infer / plain_infer - 1):+.0f} % in inference"
        )
    rows += [f"{name}: first call (compiles forward and backward) {s:.0f} s" for name, s in compile_s.items()]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m snippets.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hidden", type=positive, nargs="+", default=[128, 512], help="hidden sizes (default: 128 512)"
    )
    parser.add_argument("--repeats", type=positive, default=21, help="rounds over all candidates (default: 21)")
    parser.add_argument("--quick", action="store_true", help="5 rounds, hidden 128 only: a smoke test")
    parser.add_argument(
        "--compiled", action="store_true", help='also time snippets.fast.use("compiled") (compiles for minutes)'
    )
    parser.add_argument("--modes", nargs="+", default=["LSTM", "GRU"], choices=["LSTM", "GRU"])
    parser.add_argument("--batch", type=positive, default=BATCH, help=f"sequences per batch (default: {BATCH})")
    parser.add_argument("--steps", type=positive, default=STEPS, help=f"sequence length (default: {STEPS})")
    parser.add_argument("--input", type=positive, default=INPUT, help=f"input features (default: {INPUT})")
    parser.add_argument("--threads", type=positive, help="torch threads (default: torch's own choice)")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time this process's CPU seconds, not wall time: robust to other load on a shared machine "
        "(use with --threads 1)",
    )
    parser.add_argument(
        "--build", metavar="REF", help="instead: time cold and warm site builds of this tree against commit REF"
    )
    parser.add_argument("--turns", type=positive, default=3, help="with --build: builds of each kind (default: 3)")
    parser.add_argument("--keep", action="store_true", help="with --build: keep the temporary copies")
    parser.add_argument(
        "--warm-builds", type=positive, default=3, help="with --build: warm builds after each cold one (default: 3)"
    )
    args = parser.parse_args(argv)
    if args.build:
        from snippets.bench import build

        build.main(args.build, args.turns, args.keep, args.warm_builds)
        return
    if args.quick:
        args.repeats, args.hidden = 5, [128]
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(f"machine: {machine_description()}")
    print(
        f"batch {args.batch}, sequence {args.steps}, input {args.input}, float32; "
        f"medians of {args.repeats} interleaved rounds, {'CPU' if args.cpu_time else 'wall'} time"
    )
    print(f"load average at start: {load()}")
    for hidden in args.hidden:
        for mode in args.modes:
            medians, compile_s = measure(
                mode, hidden, args.repeats, args.compiled, args.batch, args.steps, args.input, clock
            )
            print(f"\n{mode}, hidden {hidden}")
            print("\n".join(table(mode, medians, compile_s)))
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
