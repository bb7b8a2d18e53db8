"""The character model on real text, and the search for units that track features of it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from .. import seeding, tasks, train
from ..train import TrainConfig
from . import pool
from .cache import experiment
from .runs import train_run


@dataclass(frozen=True)
class TextModelConfig:
    """One LSTM character model on torch/nn's source, trained longer than `char_model`'s.

    One seed: the whole budget goes to one model, whose cells the real-text page searches.
    """

    hidden_size: int = 128
    seq_len: int = 100
    steps: int = 1500
    batch_size: int = 32
    lr: float = 6e-3  # reached 1.79 bits/char at 1500 steps where 3e-3 reached 2.12
    eval_every: int = 100
    seed: int = 0


@experiment("text_model")
def text_model(config: TextModelConfig = TextModelConfig()) -> dict:
    """Validation bits per character against steps of one LSTM, its trained weights and the baseline."""
    corpus = tasks.CharCorpus(seq_len=config.seq_len)
    train_config = TrainConfig(
        steps=config.steps,
        batch_size=config.batch_size,
        lr=config.lr,
        clip=1.0,
        eval_every=config.eval_every,
        seed=config.seed,
    )
    # _map: one job runs in this process on one thread (two spin and crawl on a shared CPU).
    log = pool.run_jobs(
        train_run, [("lstm", "char", {"seq_len": config.seq_len}, config.hidden_size, asdict(train_config), None, True)]
    )[0]
    bits = 1 / math.log(2)
    return {
        "baseline_bpc": corpus.baseline_bpc,
        "vocab": corpus.vocab,
        "fingerprint": corpus.fingerprint,
        "val_step": log["val_step"],
        "val_bpc": [v * bits for v in log["val_loss"]],
        "seconds": log["seconds"][-1],
        "n_params": log["n_params"],
        "state_dict": log["state_dict"],
    }


@dataclass(frozen=True)
class TextUnitsConfig:
    """Search the trained `text_model`'s units for ones that track features of the source.

    Runs `snippets.LSTM` (with the trained weights) from a zero state over the first
    `max_chars` characters of every validation file, all files as one padded batch; the
    untrained model (same seed, no training) is searched the same way as a baseline.
    """

    model: TextModelConfig = TextModelConfig()
    max_chars: int = 4000
    # Searched side by side: the cell state (what Karpathy et al. show) and the hidden output.
    traces: tuple = ("c", "h")
    top: int = 3
    excerpt_lines: int = 14
    temperatures: tuple = (0.5, 1.0)
    sample_chars: int = 500
    sample_seed: int = 0
    prime: str = "class "


def validation_texts(corpus: tasks.CharCorpus) -> list[tuple[str, str]]:
    """(path under torch/, whole text) of each validation file, as `CharCorpus` splits them."""
    files = tasks.torch_source_files(corpus.subdir)
    root = next(p for p in files[0].parents if p.name == "torch")
    return [
        (f.relative_to(root).as_posix(), f.read_text(encoding="utf-8"))
        for i, f in enumerate(files)
        if i % corpus.val_every == 0
    ]


@torch.no_grad()
def unit_traces(state_dict: dict, corpus: tasks.CharCorpus, texts: list[str], keys=("c", "h")) -> list[torch.Tensor]:
    """Traces `keys` of every unit at every character of each text: one (chars, units) tensor per
    text, the keys' units side by side (for `("c", "h")`: columns 0..H-1 are $c_t$, H..2H-1 $h_t$).

    The weights are loaded into `snippets.LSTM` (`train.traceable_layer`); all texts run as one
    batch from a zero state, shorter ones padded at their end, which a left-to-right model never
    sees before the text's last character.
    """
    layer = train.traceable_layer(state_dict)
    ids = [corpus.encode(t) for t in texts]
    x = torch.zeros(len(ids), max(len(i) for i in ids), len(corpus.vocab))
    for b, i in enumerate(ids):
        x[b, torch.arange(len(i)), i] = 1.0
    _, _, trace = layer(x, return_gates=True)
    both = torch.cat([trace[k][0, 0] for k in keys], dim=-1)  # (time, batch, units)
    return [both[: len(i), b, :] for b, i in enumerate(ids)]


def busy_window(features: dict, text: str, n_lines: int) -> tuple[int, float]:
    """The `n_lines`-line window of `text` with the most lines holding a string, a comment and an
    open bracket (the least common of the three counts first): (its first line from 0, its score)."""
    starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
    lines = list(zip(starts, starts[1:] + [len(text)]))
    marks = torch.tensor(
        [[float(features[f][a:b].sum() > 0) for f in ("in_string", "in_comment", "bracket_depth")] for a, b in lines]
    ).reshape(-1, 3)
    if len(lines) <= n_lines:
        return 0, float(marks.sum(0).min() * 1000 + marks.sum())
    windows = marks.unfold(0, n_lines, 1).sum(-1)  # (windows, 3): lines with each mark
    score = windows.min(1).values * 1000 + windows.sum(1)
    return int(score.argmax()), float(score.max())


@torch.no_grad()
def generate(
    state_dict: dict,
    corpus: tasks.CharCorpus,
    hidden_size: int,
    prime: str,
    n_chars: int,
    temperature: float,
    seed: int,
) -> str:
    r"""Sample `n_chars` characters after `prime`, drawing each from $\mathrm{softmax}(z / \tau)$."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    model = train.SequenceModel("lstm", len(corpus.vocab), hidden_size, len(corpus.vocab))
    model.load_state_dict(state_dict)
    g = torch.Generator().manual_seed(seed)
    one_hot = lambda ids: torch.nn.functional.one_hot(ids, len(corpus.vocab)).float()[None]  # noqa: E731
    h, state = model.rnn(one_hot(corpus.encode(prime)))
    out = []
    for _ in range(n_chars):
        p = torch.softmax(model.readout(h[0, -1]) / temperature, -1)
        nxt = torch.multinomial(p, 1, generator=g)
        out.append(corpus.vocab[int(nxt)])
        h, state = model.rnn(one_hot(nxt), state)
    return prime + "".join(out)


def _search(acts: torch.Tensor, features: dict, top: int, keys, hidden_size: int) -> dict:
    """The best unit per feature and the `top` units per feature; a unit is (trace key, index)."""
    from .. import interpret

    def name(column: int) -> dict:
        return {"trace": keys[column // hidden_size], "unit": column % hidden_size, "column": column}

    best = interpret.find_tracking_units(acts, features)
    ranked = {}
    for feature, values in features.items():
        rho = interpret.correlations(acts, values)
        ranked[feature] = [
            {**name(int(u)), "correlation": float(rho[u])} for u in rho.abs().argsort(descending=True)[:top]
        ]
    return {
        "best": [{"feature": u.feature, **name(u.unit), "correlation": u.correlation} for u in best],
        "ranked": ranked,
    }


@experiment("text_units")
def text_units(config: TextUnitsConfig = TextUnitsConfig()) -> dict:
    """Units of the trained `text_model` that track features of Python source, found by correlation.

    Returns the best unit per feature (trained and untrained), the top units, an excerpt of a
    validation file with the best units' values on it, and samples from the model.
    """
    from .. import interpret

    trained = text_model(config.model)
    corpus = tasks.CharCorpus(seq_len=config.model.seq_len)
    files = validation_texts(corpus)
    texts = [text[: config.max_chars] for _, text in files]
    features = [{k: v[: config.max_chars] for k, v in interpret.source_features(text).items()} for _, text in files]
    joined = {k: torch.cat([f[k] for f in features]) for k in features[0]}
    seeding.seed_everything(config.model.seed)
    untrained = train.SequenceModel("lstm", len(corpus.vocab), config.model.hidden_size, len(corpus.vocab)).state_dict()
    hidden = config.model.hidden_size
    out = {
        "files": [path for path, _ in files],
        "chars": sum(len(t) for t in texts),
        "traces": list(config.traces),
        "hidden_size": hidden,
        "max_chars": config.max_chars,
    }
    acts = {}
    for name, weights in (("trained", trained["state_dict"]), ("untrained", untrained)):
        acts[name] = pool.in_process(unit_traces, [(weights, corpus, texts, config.traces)])[0]
        out[name] = _search(torch.cat(acts[name]), joined, config.top, config.traces, hidden)
    # The excerpt: the busiest window of all evaluated text, with every best unit's values on it.
    windows = [busy_window(f, text, config.excerpt_lines) for f, text in zip(features, texts)]
    k = max(range(len(texts)), key=lambda j: windows[j][1])
    first = windows[k][0]
    starts = [0] + [j + 1 for j, ch in enumerate(texts[k]) if ch == "\n"] + [len(texts[k]) + 1]
    a, b = starts[first], starts[min(first + config.excerpt_lines, len(starts) - 1)] - 1
    every = torch.cat(acts["trained"])
    out["excerpt"] = {
        "file": out["files"][k],
        "first_line": first + 1,
        "text": texts[k][a:b],
        "features": {name: f[a:b].tolist() for name, f in features[k].items()},
        "units": {
            u["feature"]: {
                **u,
                "values": acts["trained"][k][a:b, u["column"]].tolist(),
                # colour scale: 99th percentile of the unit's |value| over all evaluated
                # text (its largest value would leave most characters pale)
                "scale": float(every[:, u["column"]].abs().quantile(0.99)),
            }
            for u in out["trained"]["best"]
        },
    }
    out["samples"] = [
        {
            "temperature": t,
            "seed": config.sample_seed,
            "prime": config.prime,
            "text": generate(
                trained["state_dict"], corpus, hidden, config.prime, config.sample_chars, t, config.sample_seed
            ),
        }
        for t in config.temperatures
    ]
    return out
