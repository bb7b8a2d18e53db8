"""The named experiments the pages show, each a cached function of a config.

Every experiment returns plain data (lists, numbers, strings; tensors only for
trained weights), runs every curve on several seeds, and states its budget in
its config: where a result depends on the budget, the budget is part of the
result. Runs go to the worker processes of `snippets.experiments.pool`, one thread each.
One module per group of pages; this one lists what the site shows and runs it.

Results of the default configs (2-core CPU, torch 2.13.0) are what the pages
show; the tests re-run smaller budgets and check the effect, not the numbers.
"""

from __future__ import annotations

import time

# The experiments, their configs, and the helpers the pages and tests call, by group of pages.
from . import cache, pool
from .cost import (
    GATES,
    StepTimeConfig,
    layer_parameters,
    model_parameters,
    paired_ratio,
    parameter_counts,
    seconds_to_threshold,
    step_time,
    steps_to_threshold,
    task_sizes,
)
from .gradient_flow import (
    CandidateConfig,
    CellGradientConfig,
    ExplodingConfig,
    GradientConfig,
    TruncatedConfig,
    candidate_growth,
    exploding_gradients,
    gradient_decay_gru,
    gradient_decay_lstm,
    gradient_decay_rnn,
    truncated_gradient,
)
from .lab import GateLabConfig, gate_lab
from .modern import NumericsConfig, ParityConfig, ScanSpeedConfig, modern_numerics, parity, scan_speed
from .real_text import (
    TextModelConfig,
    TextUnitsConfig,
    busy_window,
    generate,
    text_model,
    text_units,
    unit_traces,
    validation_texts,
)
from .reuse import SpeedConfig, speed
from .runs import MODELS, band, hidden_sizes, summarise, sweep
from .training import AddingConfig, CharConfig, CopyConfig, RecallConfig, adding_problem, char_model, copy_task, recall
from .variants import (
    GRUFormsConfig,
    SameWeightsConfig,
    VariantsConfig,
    gru_forms,
    gru_forms_same_weights,
    lstm_variants,
    update_gate_extremes,
)

__all__ = [
    "cache",
    "pool",
    "GATES",
    "StepTimeConfig",
    "layer_parameters",
    "model_parameters",
    "paired_ratio",
    "parameter_counts",
    "seconds_to_threshold",
    "step_time",
    "steps_to_threshold",
    "task_sizes",
    "CandidateConfig",
    "ExplodingConfig",
    "GradientConfig",
    "CellGradientConfig",
    "TruncatedConfig",
    "truncated_gradient",
    "candidate_growth",
    "exploding_gradients",
    "gradient_decay_gru",
    "gradient_decay_lstm",
    "gradient_decay_rnn",
    "GateLabConfig",
    "gate_lab",
    "TextModelConfig",
    "TextUnitsConfig",
    "busy_window",
    "generate",
    "text_model",
    "text_units",
    "unit_traces",
    "validation_texts",
    "NumericsConfig",
    "ParityConfig",
    "ScanSpeedConfig",
    "modern_numerics",
    "parity",
    "scan_speed",
    "SpeedConfig",
    "speed",
    "MODELS",
    "band",
    "hidden_sizes",
    "summarise",
    "sweep",
    "AddingConfig",
    "CharConfig",
    "CopyConfig",
    "RecallConfig",
    "adding_problem",
    "char_model",
    "copy_task",
    "recall",
    "GRUFormsConfig",
    "SameWeightsConfig",
    "VariantsConfig",
    "gru_forms",
    "gru_forms_same_weights",
    "lstm_variants",
    "update_gate_extremes",
    "ALL",
    "SIDE_BY_SIDE",
    "run_all",
]

# What the site shows: (experiment, config); None is the experiment's default config.
ALL = (
    (adding_problem, None),
    (copy_task, None),
    (recall, None),
    (char_model, None),
    (gradient_decay_rnn, None),
    (gradient_decay_lstm, None),
    (gradient_decay_gru, None),
    (exploding_gradients, None),
    (candidate_growth, None),
    (truncated_gradient, None),
    (lstm_variants, None),
    (gru_forms, None),
    (gru_forms_same_weights, None),
)
ALL += ((step_time, None), (text_model, None), (text_units, None))  # comparison and real-text pages
ALL += ((speed, None),)  # reuse page
ALL += ((parity, None), (modern_numerics, None), (scan_speed, None))  # modern-cells page
ALL += ((gate_lab, None),)  # gate lab page (reads text_model, text_units and recall)


# Experiments that need no other experiment's result: `run_all` runs them side by side, each in a
# worker process of its own (`pool.side_by_side`), so that the pool stays busy while one of them
# waits for its slowest run. The longest first (text_model is one run of half a minute; recall and
# the sweeps run in stages, each waiting for the one before), so that no experiment is left alone
# at the end; then the short ones, which fill the gaps.
SIDE_BY_SIDE = (
    text_model,
    recall,
    char_model,
    adding_problem,
    copy_task,
    lstm_variants,
    exploding_gradients,
    gru_forms,
    parity,
    gradient_decay_rnn,
    gradient_decay_lstm,
    gradient_decay_gru,
    candidate_growth,
    truncated_gradient,
    gru_forms_same_weights,
    modern_numerics,
)


last_run_seconds: float | None = None  # wall clock of this process's last run_all


def run_all(names=None) -> list[dict]:
    """Every experiment the site shows, or those of `names` (through the cache); returns the cache report.

    First the SIDE_BY_SIDE ones, at once; then the rest in order (timings last, on a quiet CPU).
    """
    global last_run_seconds
    known = [fn.experiment_name for fn, _ in ALL]
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"expected experiment names from {known}, got unknown {unknown}")
    began = time.perf_counter()
    cache.run_experiments([call for call in ALL if names is None or call[0].experiment_name in names], SIDE_BY_SIDE)
    last_run_seconds = time.perf_counter() - began
    return cache.report()
