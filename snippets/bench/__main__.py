"""`python -m snippets.bench`: time `snippets.LSTM`/`GRU` against `torch.nn` and a naive loop.

`python -m snippets.bench --build REF [--turns N] [--warm-builds W]` times the site's cold and warm builds of this
working tree against commit REF instead (`snippets.bench.build`).
"""

from __future__ import annotations

import argparse
import time

import torch

from snippets.bench.layers import BATCH, INPUT, STEPS, load, machine, measure, table


def positive(text: str) -> int:
    """An argparse type: an int of at least 1, or a clear error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {value}")
    return value


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
    print(f"machine: {machine()}")
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
