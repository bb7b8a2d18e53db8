"""Benchmarks: speed is measured here, never in a timed test.

`python -m snippets.bench` times a training step and inference of `snippets.LSTM`/`GRU` on each of
their paths against `torch.nn` and a naive loop (`snippets.experiments.layer_timing`, which the
reuse page's `speed` experiment runs at one size). The benchmark builds on the experiments, never
the other way round.
"""
