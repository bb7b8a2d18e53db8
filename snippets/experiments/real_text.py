"""The character model on real text, and the search for units that track features of it."""

from __future__ import annotations

import math
import time
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

    One seed, `seeding.seed(seed)`: the whole budget goes to one model, whose cells the real-text
    page searches. Budget: exactly `steps` updates of Adam (clipping at 1) on `batch_size` random
    windows of `seq_len` characters; no early stopping, the weights kept are those after the last
    update.
    """

    hidden_size: int = 128
    seq_len: int = 100
    # A sweep on the validation bits per character (seed 0, one thread): 1500 steps at 6e-3 reached
    # 1.79 in 32 CPU s; 600 at 1.5e-2 1.81 in 12.5 s; 500 at 1.5e-2 1.87 in 10 s; 600 at 1e-2 1.93;
    # hidden size 64 (1500 steps) 1.97 in 16 s; windows of 50 characters 1.90 in 17 s.
    steps: int = 600
    batch_size: int = 32
    lr: float = 1.5e-2
    eval_every: int = 50
    seed: int = 0  # which seed: the run uses seeding.seed(seed)


def train_text_model(config: TextModelConfig, seed: int) -> dict:
    """One training run of `config` on `seed` (a job for the pool): its log, its weights, its CPU seconds."""
    start = time.process_time()
    train_config = TrainConfig(
        steps=config.steps,
        batch_size=config.batch_size,
        lr=config.lr,
        clip=1.0,
        eval_every=config.eval_every,
        seed=seed,
    )
    log = train_run("lstm", "char", {"seq_len": config.seq_len}, config.hidden_size, asdict(train_config), None, True)
    log["cpu_seconds"] = time.process_time() - start
    return log


@experiment("text_model")
def text_model(config: TextModelConfig = TextModelConfig()) -> dict:
    """Validation bits per character against steps of one LSTM, its trained weights and the baseline.

    `seconds` is the training's wall clock, `cpu_seconds` the CPU time of the whole run (one thread).
    """
    corpus = tasks.CharCorpus(seq_len=config.seq_len)
    log = pool.run_jobs(train_text_model, [(config, seeding.seed(config.seed))])[0]
    bits = 1 / math.log(2)
    return {
        "baseline_bpc": corpus.baseline_bpc,
        "vocab": corpus.vocab,
        "fingerprint": corpus.fingerprint,
        "seed": seeding.seed(config.seed),
        "train_chars": len(corpus.train_text),
        "val_step": log["val_step"],
        "val_bpc": [v * bits for v in log["val_loss"]],
        "status": log["status"],
        "steps_run": log["steps_run"],
        "seconds": log["seconds"][-1],
        "cpu_seconds": log["cpu_seconds"],
        "n_params": log["n_params"],
        "state_dict": log["state_dict"],
    }


@dataclass(frozen=True)
class TextUnitsConfig:
    """Search the trained `text_model`'s units for ones that track features of the source.

    Runs `snippets.LSTM` (with the trained weights) from a zero state over the first
    `max_chars` characters of every validation file, all files as one padded batch; the
    untrained model (same seed, no training) is searched the same way as a baseline. The samples
    are drawn with `seeding.seed(sample_seed)`.
    """

    model: TextModelConfig = TextModelConfig()
    max_chars: int = 4000
    # Searched side by side: the cell state (what Karpathy et al. show) and the hidden output.
    traces: tuple = ("c", "h")
    top: int = 3
    excerpt_lines: int = 14
    temperatures: tuple = (0.5, 1.0)
    sample_chars: int = 500
    sample_seed: int = 0  # which seed: the samples use seeding.seed(sample_seed)
    prime: str = "class "
    # Features that are 0 or 1 per character: their best units are also scored by `separation`.
    binary: tuple = ("in_string", "in_comment")
    bins: int = 40


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
    """The `n_lines`-line window of `text` with the most lines of each kind: a line with a string
    among its code, one with a comment, one with an open bracket, and one wholly inside a string
    (a docstring's), the least common kind counting first: (its first line from 0, its score)."""
    starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
    lines = list(zip(starts, starts[1:] + [len(text)]))

    def kinds(a: int, b: int) -> list[float]:
        inside = features["in_string"][a:b]
        return [
            float(0 < inside.sum() < len(inside)),
            float(features["in_comment"][a:b].sum() > 0),
            float(features["bracket_depth"][a:b].sum() > 0),
            float(len(inside) > 1 and bool(inside.all())),
        ]

    marks = torch.tensor([kinds(a, b) for a, b in lines]).reshape(-1, 4)
    if len(lines) <= n_lines:
        return 0, float(marks.sum(0).min() * 1000 + marks.sum())
    windows = marks.unfold(0, n_lines, 1).sum(-1)  # (windows, 4): lines of each kind
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
    rho = interpret.correlations(acts, torch.stack(list(features.values()), dim=1))  # (units, features)
    ranked = {
        feature: [
            {**name(int(u)), "correlation": float(rho[u, k])} for u in rho[:, k].abs().argsort(descending=True)[:top]
        ]
        for k, feature in enumerate(features)
    }
    return {
        "best": [{"feature": u.feature, **name(u.unit), "correlation": u.correlation} for u in best],
        "ranked": ranked,
    }


@experiment("text_units")
def text_units(config: TextUnitsConfig = TextUnitsConfig()) -> dict:
    """Units of the trained `text_model` that track features of Python source, found by correlation.

    Returns the best unit per feature (trained and untrained), the top units, the separation of the
    0/1 features' units, bits per character by region, an excerpt of a validation file with the
    best units' values on it, and samples from the model.
    """
    trained = text_model(config.model)
    # On one thread, as the training runs: on a small shared CPU a second thread costs more than it saves.
    return pool.in_process(_search_units, [(config, trained["state_dict"])])[0]


def _search_units(config: TextUnitsConfig, trained: dict) -> dict:
    """`text_units`' work, given the trained weights."""
    from .. import interpret

    corpus = tasks.CharCorpus(seq_len=config.model.seq_len)
    files = validation_texts(corpus)
    texts = [text[: config.max_chars] for _, text in files]
    features = [{k: v[: config.max_chars] for k, v in interpret.source_features(text).items()} for _, text in files]
    joined = {k: torch.cat([f[k] for f in features]) for k in features[0]}
    seeding.seed_everything(seeding.seed(config.model.seed))  # as train_cell does before building the model
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
    for name, weights in (("trained", trained), ("untrained", untrained)):
        acts[name] = unit_traces(weights, corpus, texts, config.traces)
        out[name] = _search(torch.cat(acts[name]), joined, config.top, config.traces, hidden)
    out["binary"] = {
        feature: {
            name: _separate(torch.cat(acts[name]), joined[feature], out[name]["best"], feature, config.bins)
            for name in ("trained", "untrained")
        }
        for feature in config.binary
    }
    out["docstrings"] = _docstrings(files, joined["in_string"], config.max_chars)
    out["regions"] = _regions(trained, corpus, texts, features, acts["trained"], config.traces, hidden)
    out["excerpt"] = _excerpt(texts, features, acts["trained"], out, config.excerpt_lines)
    sample_seed = seeding.seed(config.sample_seed)
    out["samples"] = [
        {
            "temperature": t,
            "seed": sample_seed,
            "prime": config.prime,
            "text": generate(trained, corpus, hidden, config.prime, config.sample_chars, t, sample_seed),
        }
        for t in config.temperatures
    ]
    return out


def _separate(acts: torch.Tensor, inside: torch.Tensor, best: list[dict], feature: str, bins: int) -> dict:
    """`interpret.separation` of the best unit for `feature`, its values turned so that the unit
    rises with the feature (times the sign of its correlation), and their histograms inside and
    outside over the middle 99 % of all its values (each a share of its characters)."""
    from .. import interpret

    unit = next(u for u in best if u["feature"] == feature)
    values = acts[:, unit["column"]] * (1.0 if unit["correlation"] >= 0 else -1.0)
    low, high = (float(q) for q in values.quantile(torch.tensor([0.005, 0.995])))
    edges = torch.linspace(low, high, bins + 1)
    mask = inside.bool()

    def density(v: torch.Tensor) -> list[float]:
        # Shares of all of `v`: the 1 % of values beyond the range fall in no bin.
        return (torch.histc(v, bins, low, high) / len(v)).tolist()

    return {
        "column": unit["column"],
        **interpret.separation(values, inside),
        "edges": edges.tolist(),
        "inside": density(values[mask]),
        "outside": density(values[~mask]),
    }


REGIONS = ("code", "in_string", "in_comment")


def docstring_spans(text: str) -> list[tuple[int, int]]:
    """(first, last + 1) character of every triple-quoted string in Python source `text`, quotes included."""
    import io
    import tokenize

    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return [
        (starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1])
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.STRING and tok.string.lstrip("rRbBuUfF")[:3] in ('"""', "'''")
    ]


def _docstrings(files: list[tuple[str, str]], strings: torch.Tensor, max_chars: int) -> dict:
    """Triple-quoted strings of the validation files: how many, their median length (whole files),
    and the share of the evaluated string characters (the first `max_chars` of each file) inside one."""
    spans = [span for _, text in files for span in docstring_spans(text)]
    inside = sum(max(0, min(b, max_chars) - a) for _, text in files for a, b in docstring_spans(text))
    return {
        "count": len(spans),
        "median_chars": float(torch.tensor([b - a for a, b in spans], dtype=torch.float64).median()),
        "share_of_string_chars": inside / float(strings.sum()),
    }


def _regions(state_dict: dict, corpus, texts: list[str], features: list[dict], acts, keys, hidden: int) -> dict:
    """Bits per character of the model and of the unigram model over the evaluated text, by where the
    predicted character is: in code (neither string nor comment), inside a string, inside a comment."""
    if "h" not in keys:
        raise ValueError(f"text_units: the regions need the output trace 'h' among the traces, got {keys!r}")
    h_columns = slice(keys.index("h") * hidden, (keys.index("h") + 1) * hidden)
    counts = torch.bincount(corpus.encode(corpus.train_text), minlength=len(corpus.vocab)).double() + 1.0
    log_unigram = (counts / counts.sum()).log()  # add-one smoothed, as CharCorpus.baseline
    model, unigram, where = [], [], []
    for text, act, feature in zip(texts, acts, features):
        ids = corpus.encode(text)[1:]  # character t + 1, predicted from h_t
        logits = torch.nn.functional.linear(
            act[:-1, h_columns], state_dict["readout.weight"], state_dict["readout.bias"]
        )
        model.append(-torch.log_softmax(logits.double(), -1).gather(1, ids[:, None])[:, 0])
        unigram.append(-log_unigram[ids])
        where.append(torch.where(feature["in_string"][1:] > 0, 1, torch.where(feature["in_comment"][1:] > 0, 2, 0)))
    model, unigram, where = torch.cat(model), torch.cat(unigram), torch.cat(where)
    return {
        name: {
            "chars": int((where == k).sum()),
            "bpc": float(model[where == k].mean() / math.log(2)),
            "unigram_bpc": float(unigram[where == k].mean() / math.log(2)),
        }
        for k, name in enumerate(REGIONS)
    }


def _excerpt(texts: list[str], features: list[dict], acts: list[torch.Tensor], out: dict, n_lines: int) -> dict:
    """The busiest window of all evaluated text, with every best unit's values and every feature on it."""
    windows = [busy_window(f, text, n_lines) for f, text in zip(features, texts)]
    k = max(range(len(texts)), key=lambda j: windows[j][1])
    first = windows[k][0]
    starts = [0] + [j + 1 for j, ch in enumerate(texts[k]) if ch == "\n"] + [len(texts[k]) + 1]
    a, b = starts[first], starts[min(first + n_lines, len(starts) - 1)] - 1
    every = torch.cat(acts)
    return {
        "file": out["files"][k],
        "first_line": first + 1,
        "text": texts[k][a:b],
        "features": {name: f[a:b].tolist() for name, f in features[k].items()},
        "units": {
            u["feature"]: {
                **u,
                "values": acts[k][a:b, u["column"]].tolist(),
                # colour scale: 99th percentile of the unit's |value| over all evaluated
                # text (its largest value would leave most characters pale)
                "scale": float(every[:, u["column"]].abs().quantile(0.99)),
            }
            for u in out["trained"]["best"]
        },
    }
